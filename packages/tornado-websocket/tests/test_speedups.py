"""tornado.speedups: the C-backed mask gives what the pure Python mask gives, and is the one used."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tornado import _websocket_proto, speedups
from tornado.util import _websocket_mask_python


def test_known_values() -> None:
    assert speedups.websocket_mask(b"abcd", b"") == b""
    assert speedups.websocket_mask(b"abcd", b"54321") == b"TVPVP"
    # NUL bytes and the high bit: no C-string or signedness slip.
    assert speedups.websocket_mask(b"\x00\x01\x02\x03", b"\xff\xfb\xfd\xfc\xfe\xfa") == (
        b"\xff\xfa\xff\xff\xfe\xfb"
    )


@given(st.binary(min_size=4, max_size=4), st.binary(max_size=5000))
def test_matches_the_python_mask(mask: bytes, data: bytes) -> None:
    masked = speedups.websocket_mask(mask, data)
    assert masked == _websocket_mask_python(mask, data)
    assert speedups.websocket_mask(mask, bytearray(masked)) == data
    assert speedups.websocket_mask(mask, memoryview(masked)) == data


@pytest.mark.parametrize("mask", [b"", b"a", b"abc", b"abcde"])
def test_mask_must_be_four_bytes(mask: bytes) -> None:
    with pytest.raises(ValueError, match="4 bytes"):
        speedups.websocket_mask(mask, b"data")


def test_protocol_masks_with_the_speedup_unless_turned_off() -> None:
    # The suite also runs with the speedups turned off (CI's pure mode).
    if os.environ.get("TORNADO_NO_SPEEDUPS") or os.environ.get("TORNADO_NO_EXTENSION"):
        assert _websocket_proto.mask_payload is _websocket_mask_python
    else:
        assert _websocket_proto.mask_payload is speedups.websocket_mask


def test_import_does_not_run_the_websockets_package() -> None:
    code = "import sys, tornado.speedups; print('websockets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("variable", ["TORNADO_NO_SPEEDUPS", "TORNADO_NO_EXTENSION"])
def test_environment_turns_the_speedup_off(variable: str) -> None:
    code = (
        "from tornado import _websocket_proto, util;"
        "print(_websocket_proto.mask_payload is util._websocket_mask_python)"
    )
    env = {**os.environ, variable: "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "True"
