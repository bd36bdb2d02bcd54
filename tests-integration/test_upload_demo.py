"""The streaming upload demo end to end: the demo process as users start it,
uploads over real sockets, files checked on disk."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UPLOAD = ROOT / "demos" / "upload" / "app.py"


@pytest.fixture
def upload_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    store = tmp_path / "store"
    proc = subprocess.Popen(
        [sys.executable, str(UPLOAD), "--port", "0", "--dir", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving on http://127.0.0.1:"), line + (
            proc.stderr.read() if proc.stderr else ""
        )
        yield int(line.strip().rstrip("/").rsplit(":", 1)[1]), store
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        assert "Traceback" not in err, err


def put(port: int, name: str, chunks: Iterator[bytes], length: int) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("PUT", "/upload/" + name)
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        for chunk in chunks:
            conn.send(chunk)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_large_upload_is_streamed_to_disk(upload_server: tuple[int, Path]) -> None:
    port, store = upload_server
    block = os.urandom(1024 * 1024)
    count = 24
    expected = hashlib.sha256(block * count).hexdigest()
    status, body = put(port, "data.bin", iter([block] * count), len(block) * count)
    assert status == 200, body
    result = json.loads(body)
    assert result == {
        "name": "data.bin",
        "size": len(block) * count,
        "sha256": expected,
        "buffered": 0,
    }
    stored = store / "data.bin"
    assert stored.stat().st_size == len(block) * count
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == expected
    listing = json.loads(http_get(port, "/"))
    assert listing == {"files": {"data.bin": len(block) * count}}


def test_unsafe_names_are_refused(upload_server: tuple[int, Path]) -> None:
    port, store = upload_server
    for name in ("..%2Fescape", ".hidden", "%2Fetc%2Fpasswd"):
        status, _ = put(port, name, iter([b"x"]), 1)
        assert status == 400, name
    assert not (store.parent / "escape").exists()
    assert [p.name for p in store.iterdir()] == []


def test_interrupted_upload_leaves_no_file(upload_server: tuple[int, Path]) -> None:
    port, store = upload_server
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"PUT /upload/part.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        sock.sendall(b"y" * 100_000)
        # Wait (by request count) until the partial upload is on disk.
        for _ in range(500):
            partial = json.loads(http_get(port, "/?all=1"))["files"]
            if any(size >= 100_000 for size in partial.values()):
                break
        else:
            raise AssertionError(f"partial upload never reached the disk: {partial}")
        assert all(name.startswith(".upload-") for name in partial)
    # The client is gone: the server notices and removes the partial file.
    for _ in range(500):
        if json.loads(http_get(port, "/?all=1"))["files"] == {}:
            break
    assert list(store.iterdir()) == []


def http_get(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()
