"""Screenshots of a running kiosk for edge/README.md (the ones in edge/docs/ come from `make kiosk`).

    make kiosk &                                   # the demo kiosk on http://127.0.0.1:8090/
    .venv/bin/python edge/docs/make_screenshots.py [--url http://127.0.0.1:8090] [--out edge/docs]

Headless Debian Chromium through Playwright (tests/browser.py): the start page and a profile of a
text with a phone number in it, at 1080x1920 and 1920x1080. The failure states come from the
browser tests (COLDSTART_SCREENSHOTS=edge/docs pytest tests/test_kiosk_page.py).
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM_ARGS, LANDSCAPE, PORTRAIT, find_chromium  # noqa: E402

TEXT = "产品经理，周末喜欢徒步和摄影，联系我13812345678"


def main() -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8090")
    ap.add_argument("--out", default=str(ROOT / "edge" / "docs"))
    args = ap.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS)
        for viewport in (PORTRAIT, LANDSCAPE):
            shape = f"{viewport['width']}x{viewport['height']}"
            page = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True).new_page()
            page.goto(args.url + "/")
            page.wait_for_selector("body[data-ocr]")
            page.screenshot(path=f"{args.out}/kiosk-{shape}-start.png")
            page.locator("#text").click()
            page.keyboard.type(TEXT)
            page.locator("#submit").click()
            page.wait_for_selector("body[data-state='done']")
            page.mouse.click(5, 5)  # focus off the result heading, as after a glance
            page.screenshot(path=f"{args.out}/kiosk-{shape}-result.png")
            print(f"{shape}: {page.inner_text('#masked')} | {page.inner_text('#why')}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
