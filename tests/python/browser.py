"""Headless Chromium for browser tests: find it (a missing browser fails where
FASTERAPI_REQUIRE_BROWSER=1 or CI is set, else skips), open one URL until the page reports
back, or dump a page's DOM after its scripts ran. Every browser test (ws/, sse/, h2/,
surface/) launches Chromium through this module."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading

import pytest
from conftest import IN_CI


def find_chromium() -> str:
    """The chromium binary; skips the test (fails under FASTERAPI_REQUIRE_BROWSER=1/CI)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("FASTERAPI_REQUIRE_BROWSER") == "1" or IN_CI:
        pytest.fail("chromium is not installed (FASTERAPI_REQUIRE_BROWSER=1 or CI is set)")
    pytest.skip("chromium is not installed (set FASTERAPI_REQUIRE_BROWSER=1 to require it)")


def open_page(url: str, done: threading.Event, timeout: float, flags: tuple[str, ...] = ()) -> None:
    """Loads `url` in a fresh headless profile and waits until `done` is set (the page reports
    to the app), then closes the browser. Fails with chromium's stderr if it never is."""
    browser = find_chromium()
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [
                browser,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={profile}",
                *flags,
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            finished = done.wait(timeout)
        finally:
            proc.kill()
            _, err = proc.communicate()
    assert finished, f"the page never reported; chromium said:\n{err.decode()[-3000:]}"


def dump_dom(url: str, budget_ms: int = 15000) -> str:
    """The page's DOM after its scripts ran (virtual time lets its fetches finish)."""
    browser = find_chromium()
    with tempfile.TemporaryDirectory() as profile:
        run = subprocess.run(
            [
                browser,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout
