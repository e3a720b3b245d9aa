"""Headless Debian Chromium driven by Playwright for Python (no browser download: ``executable_path``).

    def test_x(chromium):                # the session fixture (tests/conftest.py imports it from here)
        page = chromium.new_page(viewport={"width": 1080, "height": 1920})
        page.goto(url)

``make browser-setup`` installs Debian's ``chromium``; the tests fail (they do not skip) when it or
the ``playwright`` package is missing, since ``make test`` installs both.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional

import pytest

# No network, no background services, no sandbox (containers without user namespaces), no GPU.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}


def find_chromium() -> Optional[str]:
    """Debian's chromium (``/usr/bin/chromium``), or $COLDSTART_CHROMIUM."""
    for candidate in (os.environ.get("COLDSTART_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium():
    binary = find_chromium()
    if not binary:
        pytest.fail("chromium is not installed: run `make browser-setup` (apt-get install chromium)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -c constraints.txt -r requirements-dev.txt", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def save_screenshot(page, name: str, tmp_dir: Path) -> Path:
    """Screenshot into the test's tmp dir, and also into $COLDSTART_SCREENSHOTS when set (edge/docs/)."""
    path = Path(tmp_dir) / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    wanted = os.environ.get("COLDSTART_SCREENSHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(wanted) / path.name)
    return path
