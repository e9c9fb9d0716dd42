"""Headless Chromium for browser tests: find it (a missing browser fails where
FASTERAPI_REQUIRE_BROWSER=1 or CI is set, else skips), and open one URL until the page reports
back. The tests in ws/, sse/ and surface/ carry their own copies of this launcher; new browser
tests use this one."""

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
