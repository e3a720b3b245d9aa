"""The visitor page in headless Debian Chromium (Playwright), at the kiosk's two screen shapes.

What a visitor must never see: the previous visitor's words (the form is emptied after each profile
and after the idle timeout), a masked value, or anything from the machine room (exception names,
endpoints, release versions, outbox counts) in any failure state. The page runs under its real
Content-Security-Policy (no eval), so waits are CSS selectors on ``body[data-state]``. Screenshots
of each state go to the test's tmp dir, and to $COLDSTART_SCREENSHOTS when set (edge/docs/ holds the committed ones).
"""
import json
import re
import threading

import pytest

from coldstart.storage import StoreSettings
from local.procs import free_port
from tests.browser import LANDSCAPE, PORTRAIT, save_screenshot
from tests.test_edge import PHONE_TEXT, Running, make_kiosk, no_network, publish  # noqa: F401  (fixture)

PHONE = "13812345678"
NOT_READY = "系统正在准备中，暂时无法分析。请稍后再试，或联系工作人员。"
MESSAGES = {
    "no_release": NOT_READY,
    "s3_down": NOT_READY,
    "server_error": "系统出了点问题，这次没有分析成功。请稍后再试，或联系工作人员。",
    "bad_image": "这张图片无法识别，请换一张 JPEG、PNG 或 WebP 格式的图片。",
    "image_too_large": "图片太大了，请换一张不超过 2 MB 的图片。",
    "offline": "暂时连接不上分析服务。请稍后再试，或联系工作人员。",
}
# Latin words a visitor may read on the page; anything else (an exception name, a path, a version) fails.
ALLOWED_LATIN = {"JPEG", "PNG", "WebP", "Ctrl", "Enter", "QQ", "MB"}
# ...and nowhere in the DOM either (the markup itself uses ids like "error", so only unambiguous strings here)
INTERNAL = ("Error", "Exception", "Traceback", "s3://", "current.json", "127.0.0.1", "v1/", "pending", "not_ready")


@pytest.fixture(scope="module")
def release(tiny_pipeline, tmp_path_factory):
    root = tmp_path_factory.mktemp("page-release") / "releases"
    publish(root, tiny_pipeline, "v1")
    return root


@pytest.fixture
def kiosk_at(release, tmp_path):
    started = []

    def start(release_uri=None, idle_seconds=60.0, ocr=None, store_settings=None):
        kiosk = make_kiosk(release_uri or release, tmp_path / f"data{len(started)}", store_settings=store_settings,
                           idle_seconds=idle_seconds)
        if ocr is not None:  # what /api/ready reports (the 3.11 test venv has OCR; the 3.9 kiosk has not)
            kiosk._ocr_probe.join()
            kiosk._ocr = ocr
        running = Running(kiosk)
        started.append(running)
        return running

    yield start
    for running in started:
        running.close()


@pytest.fixture
def open_page(chromium):
    """open_page(running, viewport) -> a page on the kiosk, touch enabled, after /api/ready answered."""
    contexts = []

    def open_(running, viewport=PORTRAIT):
        context = chromium.new_context(viewport=viewport, device_scale_factor=1, locale="zh-CN", has_touch=True)
        contexts.append(context)
        page = context.new_page()
        page.goto(running.url + "/")
        page.wait_for_selector("body[data-ocr]")
        return page

    yield open_
    for context in contexts:
        context.close()


def shape(viewport):
    return f"{viewport['width']}x{viewport['height']}"


def visible_text(page):
    return page.inner_text("body")


def assert_no_internals(page):
    text = visible_text(page)
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_./:-]*", text))
    assert words <= ALLOWED_LATIN, f"internal-looking words on the visitor page: {words - ALLOWED_LATIN}"
    html = page.content()
    assert not [w for w in INTERNAL if w in html], [w for w in INTERNAL if w in html]


def assert_readable(page, viewport):
    """Kiosk distance: big type and big targets; nothing wider than the screen; the form without scrolling."""
    m = page.evaluate("""() => {
        const px = (el, p) => parseFloat(getComputedStyle(el).getPropertyValue(p));
        const box = (id) => document.getElementById(id).getBoundingClientRect();
        return {overflow: document.documentElement.scrollWidth - window.innerWidth,
                text: px(document.getElementById('text'), 'font-size'),
                body: px(document.querySelector('.lead'), 'font-size'),
                small: px(document.querySelector('footer'), 'font-size'),
                submit: [box('submit').width, box('submit').height, box('submit').bottom],
                reset: [box('reset').width, box('reset').height]};
    }""")
    assert m["overflow"] <= 0
    assert m["text"] >= 28 and m["body"] >= 28 and m["small"] >= 22, m
    assert m["submit"][1] >= 80 and m["reset"][1] >= 80 and m["submit"][0] >= 200 and m["reset"][0] >= 150, m
    assert m["submit"][2] <= viewport["height"], m  # 提交 on screen without scrolling


def submit_text(page, text):
    page.locator("#text").click()
    page.keyboard.type(text)  # typed, as a visitor would
    page.locator("#submit").click()
    page.wait_for_selector("body[data-state='done']")


def pct(score):
    return f"{int(score * 100 + 0.5)}%"


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=shape)
def test_a_visitor_gets_tags_why_and_the_masking_notice_and_the_form_is_emptied(open_page, kiosk_at, viewport,
                                                                                  tmp_path):
    running = kiosk_at(ocr=False)
    page = open_page(running, viewport)
    assert_readable(page, viewport)
    assert page.locator("#avatar-group").is_hidden()  # no OCR on this runtime: no promise of it either
    assert page.locator("#placeholder").is_visible()
    save_screenshot(page, f"kiosk-{shape(viewport)}-start", tmp_path)

    submit_text(page, PHONE_TEXT)
    _, body, _ = running.json("POST", "/api/profile", json.dumps({"text": PHONE_TEXT}))
    tags = page.eval_on_selector_all("#tags li", "els => els.map(li => [li.querySelector('.name').textContent, "
                                                 "li.querySelector('.score').textContent])")
    assert tags and tags == [[t["tag"], pct(t["score"])] for t in body["tags"][:5]]  # the strongest five at most
    assert page.inner_text("#why") == body["why"] and body["pii_masked"] == {"PHONE": 1}
    assert page.inner_text("#masked") == "已隐藏手机号，原文不会保存。"
    assert page.input_value("#text") == "" and PHONE not in page.content()  # gone from the screen and the DOM
    assert page.locator("#error").is_hidden() and page.locator("#loading").is_hidden()
    assert page.locator("#placeholder").is_hidden()
    result = page.locator("#result").bounding_box()
    assert result["y"] + result["height"] <= viewport["height"], (body["tags"], body["reason"], body["why"])
    assert_no_internals(page)
    save_screenshot(page, f"kiosk-{shape(viewport)}-result", tmp_path)


def test_the_page_empties_itself_after_the_idle_timeout(open_page, kiosk_at):
    running = kiosk_at(idle_seconds=3, ocr=False)
    page = open_page(running)
    assert page.get_attribute("body", "data-idle-seconds") == "3" and "3 秒" in visible_text(page)

    submit_text(page, PHONE_TEXT)  # a result left on screen by a visitor who walked away
    assert page.locator("#result").is_visible()
    page.wait_for_selector("body[data-idle-resets='1']", timeout=10000)
    assert page.locator("#result").is_hidden() and page.locator("#masked").is_hidden()
    assert page.inner_text("#tags") == "" and page.inner_text("#why") == ""

    for _ in range(6):  # someone typing keeps the page (4.8 s in all): each key restarts the countdown
        page.keyboard.type("我")
        page.wait_for_timeout(800)
    assert page.get_attribute("body", "data-idle-resets") == "1" and page.input_value("#text") == "我" * 6
    page.locator("#text").fill(f"我的电话{PHONE}")  # typed but never sent: it goes too
    page.wait_for_selector("body[data-idle-resets='2']", timeout=10000)
    assert page.input_value("#text") == "" and PHONE not in page.content()


def test_keyboard_only_use_and_the_restart_button(open_page, kiosk_at):
    running = kiosk_at(ocr=False)
    page = open_page(running)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "text"
    page.keyboard.type("我喜欢看科幻电影和打篮球")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("body[data-state='done']")
    assert page.locator("#result").is_visible() and page.evaluate("document.activeElement.id") == "result-title"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "reset"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # focus is visible
    page.keyboard.press("Enter")  # 重新开始
    assert page.locator("#result").is_hidden() and page.evaluate("document.activeElement.id") == "text"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "submit"


def test_a_loading_state_while_the_kiosk_works(open_page, kiosk_at):
    running = kiosk_at(ocr=False)
    release_request = threading.Event()
    real = running.kiosk.profile

    def slow(*args, **kwargs):
        release_request.wait(20)
        return real(*args, **kwargs)

    running.kiosk.profile = slow
    page = open_page(running)
    page.locator("#text").fill("喜欢旅行和摄影")
    page.locator("#submit").click()
    page.wait_for_selector("body[data-state='loading']")
    assert page.locator("#loading").is_visible() and "正在分析" in page.inner_text("#loading")
    assert page.locator("#submit").is_disabled() and page.get_attribute("#form", "aria-busy") == "true"
    release_request.set()
    page.wait_for_selector("body[data-state='done']")
    assert page.locator("#loading").is_hidden() and page.locator("#submit").is_enabled()
    assert page.locator("#result").is_visible()


def test_the_avatar_upload_is_offered_only_where_ocr_runs(open_page, kiosk_at):
    for ocr in (False, True):
        page = open_page(kiosk_at(ocr=ocr))
        assert page.locator("#avatar-group").is_visible() is ocr
        assert ("图中的文字会一起分析" in visible_text(page)) is ocr


def _failing(kind, kiosk_at, tmp_path):
    if kind == "no_release":
        empty = tmp_path / "nothing-published"
        empty.mkdir()
        return kiosk_at(release_uri=empty, ocr=False)
    if kind == "s3_down":
        down = StoreSettings(endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1, connect_timeout=0.5,
                             read_timeout=0.5)
        return kiosk_at(release_uri="s3://releases/coldstart", store_settings=down, ocr=False)
    running = kiosk_at(ocr=kind in ("bad_image", "image_too_large"))
    if kind == "server_error":
        class Broken:
            def encode_ids(self, *args):
                raise RuntimeError("StorageError: NoCredentialsError at s3://releases/current.json")

        running.kiosk.manager.current.encoder = Broken()
    return running


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_every_failure_reads_as_a_plain_chinese_sentence(open_page, kiosk_at, kind, tmp_path, no_network):
    running = _failing(kind, kiosk_at, tmp_path)
    page = open_page(running)
    if kind in ("no_release", "s3_down"):  # said before anyone types, too
        assert page.locator("#notice").is_visible() and page.inner_text("#notice") == NOT_READY
    if kind == "bad_image":
        page.set_input_files("#avatar", files=[{"name": "头像.png", "mimeType": "image/png",
                                                "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00not really a png" * 40}])
        assert page.inner_text("#avatar-chosen") == "已选择 1 张图片"  # never the file's name
    if kind == "image_too_large":
        page.set_input_files("#avatar", files=[{"name": "big.jpg", "mimeType": "image/jpeg",
                                                "buffer": b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024)}])
    if kind == "offline":  # the kiosk process is gone (a stopped server would still answer on kept-alive connections)
        page.route("**/api/profile", lambda route: route.abort("connectionrefused"))
    page.locator("#text").fill("我喜欢打篮球和看科幻电影")
    page.locator("#submit").click()
    page.wait_for_selector("body[data-state='done']", timeout=30000)
    assert page.locator("#error").is_visible() and page.inner_text("#error") == MESSAGES[kind]
    assert page.locator("#notice").is_hidden()  # the same sentence is not shown twice
    assert page.input_value("#text") == "我喜欢打篮球和看科幻电影"  # kept to try again; the idle timeout clears it
    assert page.locator("#result").is_hidden() and page.locator("#submit").is_enabled()
    assert_no_internals(page)
    save_screenshot(page, f"kiosk-1080x1920-{kind.replace('_', '-')}", tmp_path)
