"""The auth demo end to end: the demo process as users start it (application
and stand-in provider), a browser stand-in (httpx) that follows redirects,
keeps cookies and submits the provider's consent form."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demos" / "auth" / "app.py"
SECRET = "demo-client-secret-that-must-not-leak"


@dataclass
class Demo:
    app_url: str
    provider_url: str
    proc: subprocess.Popen[str]

    def stop(self) -> str:
        """Stop the demo; return everything it logged."""
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return err


def start_demo(*extra: str) -> Demo:
    proc = subprocess.Popen(
        [sys.executable, str(DEMO), "--port", "0", "--client-secret", SECRET, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    app_line = proc.stdout.readline()
    provider_line = proc.stdout.readline()
    if not app_line.startswith("serving on ") or not provider_line.startswith("provider on "):
        proc.kill()
        raise AssertionError(app_line + provider_line + proc.communicate()[1])
    return Demo(app_line.split()[-1].rstrip("/"), provider_line.split()[-1].rstrip("/"), proc)


@pytest.fixture
def demo() -> Iterator[Demo]:
    running = start_demo()
    yield running
    if running.proc.poll() is None:
        running.stop()


def consent_form(page: httpx.Response) -> dict[str, str]:
    """The consent form's fields, as a browser would submit them."""
    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))


def test_sign_in_and_out(demo: Demo) -> None:
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        home = browser.get(demo.app_url + "/")
        assert "Sign in with the provider" in home.text

        consent = browser.get(demo.app_url + "/login")
        assert consent.url.path == "/authorize"
        assert str(consent.url).startswith(demo.provider_url)
        assert SECRET not in str(consent.url)

        form = consent_form(consent)
        form.update(name="Grace Hopper", email="grace@example.com", decision="allow")
        signed_in = browser.post(demo.provider_url + "/authorize", data=form)
        assert signed_in.status_code == 200
        assert signed_in.url == httpx.URL(demo.app_url + "/")
        assert "Hello, Grace Hopper" in signed_in.text
        assert "grace@example.com" in signed_in.text

        signed_out = browser.get(demo.app_url + "/logout")
        assert "Sign in with the provider" in signed_out.text
        pages = [home, consent, signed_in, signed_out, *signed_in.history]
    logged = demo.stop()
    assert "302 GET /login" in logged
    for text in [logged, *(p.text + str(p.url) + str(p.headers) for p in pages)]:
        assert SECRET not in text


def test_denied_consent_is_403(demo: Demo) -> None:
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        form = consent_form(browser.get(demo.app_url + "/login"))
        form["decision"] = "deny"
        denied = browser.post(demo.provider_url + "/authorize", data=form)
    assert denied.status_code == 403
    assert "Sign-in was refused" in denied.text
    assert "Traceback" not in denied.text


def test_login_not_started_here_is_403(demo: Demo) -> None:
    """A callback with a code but someone else's state (login CSRF)."""
    with httpx.Client(follow_redirects=True, timeout=10) as victim:
        response = victim.get(demo.app_url + "/login?code=attackers-code&state=attackers-state")
    assert response.status_code == 403
    assert "Traceback" not in response.text


def test_misconfigured_secret_is_502_without_leaking_it() -> None:
    demo = start_demo("--provider-secret", "what-the-provider-really-expects")
    try:
        with httpx.Client(follow_redirects=True, timeout=10) as browser:
            form = consent_form(browser.get(demo.app_url + "/login"))
            form["decision"] = "allow"
            failed = browser.post(demo.provider_url + "/authorize", data=form)
    finally:
        logged = demo.stop()
    assert failed.status_code == 502
    assert "could not complete the sign-in" in failed.text
    assert "Traceback" not in failed.text
    assert "login failed: Error from" in logged
    assert "invalid_client" in logged
    assert SECRET not in logged and SECRET not in failed.text
