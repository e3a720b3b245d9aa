"""Avatar OCR (coldstart.ocr): text read from rendered images, PII masked before it leaves the reader,
every bad image a clear 4xx, and POST /profile with "avatar" through the service."""
import base64
import io
import json
import struct
import zlib

import pytest

PIL = pytest.importorskip("PIL")
pytest.importorskip("rapidocr_onnxruntime")

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from coldstart.api import answer_profile  # noqa: E402
from coldstart.api import error_response, status_for  # noqa: E402
from coldstart.errors import RequestError, StorageError  # noqa: E402
from coldstart.ocr import MAX_AVATAR_PIXELS, AvatarReader, decode_image  # noqa: E402

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def font(size=32):
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        pytest.skip(f"{FONT} missing: run `make fonts-setup` (Debian fonts-wqy-zenhei)")


def render(text, size=(420, 80), fmt="PNG", bg="white", fg="black", font_size=32, **save):
    img = Image.new("RGB", size, bg)
    ImageDraw.Draw(img).multiline_text((10, 10), text, font=font(font_size), fill=fg)
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


def png_header(width, height):
    """A PNG that is only a header claiming width x height (no pixel data): a decompression bomb's shape."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def reader():
    return AvatarReader()


# ---------------------------------------------------------------- the reader

def test_reads_chinese_text_from_a_rendered_avatar(reader):
    result = reader.read(render("程序员 | 跑步爱好者"))
    assert "程序员" in result.text and "跑步爱好者" in result.text
    assert result.raw_count >= 1 and result.ms > 0


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_jpeg_and_webp_are_read_too(reader, fmt):
    result = reader.read(render("摄影爱好者", fmt=fmt, quality=90))
    assert "摄影" in result.text


def test_large_photo_is_downscaled_before_ocr_and_still_read(reader):
    """The detector only ever sees <= 960 px a side (what bounds OCR time; bench/ocr.py measures the
    time itself, side by side: tests assert values, never seconds)."""
    data = render("篮球", size=(3000, 2000), font_size=300, fmt="JPEG", quality=85)
    img = decode_image(data)
    assert max(img.size) == 960 and img.size == (960, 640)
    result = reader.read(data)
    assert "篮球" in result.text


def test_a_phone_number_written_in_the_image_is_masked(reader):
    result = reader.read(render("电话13812345678"))
    assert result.pii_counts == {"PHONE": 1}
    assert any("[PHONE]" in line for line in result.lines)
    assert "13812345678" not in result.text and "1234" not in result.text
    assert "1381" not in repr(result)


def test_a_phone_number_split_over_two_lines_is_masked(reader):
    result = reader.read(render("138 1234\n5678", size=(420, 120)))
    assert result.pii_counts.get("PHONE") == 1
    assert "5678" not in result.text and "1234" not in result.text


def test_transparent_png_text_is_read_on_white(reader):
    img = Image.new("RGBA", (420, 80), (0, 0, 0, 0))
    ImageDraw.Draw(img).text((10, 10), "跑步爱好者", font=font(), fill=(0, 0, 0, 255))
    out = io.BytesIO()
    img.save(out, "PNG")
    assert "跑步" in reader.read(out.getvalue()).text


def test_an_image_without_text_gives_no_lines(reader):
    result = reader.read(render("", size=(256, 256), bg="#4a90d9"))
    assert result.lines == [] and result.text == ""


# ---------------------------------------------------------------- bad images: 4xx, before decoding

def _valid_png():
    return render("你好", size=(200, 60))


BAD_IMAGES = [
    ("not an image", lambda: b"hello, this is not an image at all", 400, "invalid_avatar"),
    ("empty", lambda: b"", 400, "invalid_avatar"),
    ("truncated png", lambda: _valid_png()[: len(_valid_png()) // 2], 400, "invalid_avatar"),
    ("png signature only", lambda: b"\x89PNG\r\n\x1a\n", 400, "invalid_avatar"),
    ("bomb 100000x100000", lambda: png_header(100000, 100000), 413, "avatar_too_many_pixels"),
    ("over the pixel limit", lambda: png_header(5000, 4000), 413, "avatar_too_many_pixels"),
    ("over the byte limit", lambda: b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024), 413, "avatar_too_large"),
    ("gif", lambda: render("", size=(20, 20), fmt="GIF"), 415, "unsupported_avatar_format"),
    ("bmp", lambda: render("", size=(20, 20), fmt="BMP"), 415, "unsupported_avatar_format"),
    ("jpeg garbage", lambda: b"\xff\xd8\xff\xe0" + b"\x13" * 500, 400, "invalid_avatar"),
]


@pytest.mark.parametrize("name,make,status,code", BAD_IMAGES, ids=[b[0] for b in BAD_IMAGES])
def test_bad_images_are_refused_with_a_clear_4xx(name, make, status, code):
    with pytest.raises(RequestError) as caught:
        decode_image(make())
    assert (status_for(caught.value), caught.value.code) == (status, code)
    assert caught.value.message and "\\x" not in caught.value.message


def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(monkeypatch):
    def no_decoding(self, *a, **kw):
        raise AssertionError("pixels were decoded")
    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr("PIL.PngImagePlugin.PngImageFile.load", no_decoding, raising=False)
    for w, h in ((100000, 100000), (5000, 4000), (MAX_AVATAR_PIXELS, 2)):
        with pytest.raises(RequestError) as caught:
            decode_image(png_header(w, h))
        assert status_for(caught.value) == 413


# ---------------------------------------------------------------- through the service: POST /profile

@pytest.fixture(scope="module")
def svc(tiny_pipeline, tmp_path_factory):
    from coldstart.service import ProfileService
    from coldstart.settings import ServingSettings
    from infra.cli import main

    root = tmp_path_factory.mktemp("ocr-release")
    assert main(["publish", "--to", str(root), "--index", str(tiny_pipeline / "idx"),
                 "--model", str(tiny_pipeline / "model"), "--version", "o1"]) == 0
    return ProfileService(ServingSettings(release_uri=str(root), cache_dir=str(tmp_path_factory.mktemp("ocr-cache")),
                                          min_confidence=0.0, refresh_seconds=0))


def post(svc, payload):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return answer_profile(svc, body, "application/json")


def b64(data):
    return base64.b64encode(data).decode("ascii")


def test_profile_with_an_avatar_reports_the_masked_lines_used(svc):
    status, body, result = post(svc, {"text": "喜欢", "avatar": b64(render("程序员 | 跑步爱好者"))})
    assert status == 200, body
    ocr = body["ocr"]
    assert ocr["used"] is True and isinstance(ocr["changed_top_tag"], bool) and ocr["ms"] > 0
    assert any("程序员" in line for line in ocr["lines"])
    assert "程序员" in result.masked_text  # the image text reached the profile (and the stored masked text)
    assert ocr["fusion"] in ("concat", "weighted", "gated") and 0.0 <= ocr["profile_shift"] <= 1.0
    assert isinstance(ocr["text_only_top_tag"], str)


def test_avatar_alone_gives_a_profile_instead_of_the_empty_text_fallback(svc):
    status, body, _ = post(svc, {"text": "", "avatar": b64(render("程序员 | 跑步爱好者"))})
    assert status == 200 and body["ocr"]["used"] is True
    assert body.get("reason") != "empty_text"


def test_a_phone_number_in_the_avatar_never_reaches_the_response(svc):
    status, body, result = post(svc, {"text": "产品经理", "avatar": b64(render("微信同号13812345678"))})
    assert status == 200
    dumped = json.dumps(body, ensure_ascii=False)
    assert "13812345678" not in dumped and "1381234" not in result.masked_text
    assert body["ocr"]["pii_masked"]


def test_an_avatar_without_text_profiles_from_the_text_alone(svc):
    text = "我喜欢打篮球"
    _, plain, _ = post(svc, {"text": text})
    status, body, _ = post(svc, {"text": text, "avatar": b64(render("", size=(256, 256), bg="#e0c080"))})
    assert status == 200
    assert body["ocr"]["used"] is False and body["ocr"]["lines"] == [] and body["ocr"]["changed_top_tag"] is False
    assert body["tags"] == plain["tags"]


def test_a_data_url_avatar_is_accepted(svc):
    status, body, _ = post(svc, {"text": "x", "avatar": "data:image/png;base64," + b64(render("跑步"))})
    assert status == 200 and body["ocr"]["used"] is True


BAD_AVATARS = [
    ({"text": "x", "avatar": "!!!not base64!!!"}, 400, "invalid_avatar"),
    ({"text": "x", "avatar": 12}, 400, "invalid_avatar"),
    ({"text": "x", "avatar": ""}, 400, "invalid_avatar"),
    ({"text": "x", "avatar": "s3://bucket/avatars/u1.png"}, 400, "avatar_source_unavailable"),  # releases not on S3
    ({"text": "x", "avatar": "s3://bucket-only"}, 400, "invalid_avatar"),
    ({"text": "x", "avatar": "s3:///key.png"}, 400, "invalid_avatar"),
    ({"text": "x", "avatar": b64(b"plain text, not an image")}, 400, "invalid_avatar"),
    ({"text": "x", "avatar": b64(png_header(100000, 100000))}, 413, "avatar_too_many_pixels"),
    ({"text": "x", "avatar": b64(b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024))}, 413, "avatar_too_large"),
    ({"text": "x", "avatar": b64(b"GIF89a" + b"\0" * 30)}, 415, "unsupported_avatar_format"),
]


@pytest.mark.parametrize("payload,status,code", BAD_AVATARS)
def test_bad_avatars_through_the_service_are_4xx_never_5xx(svc, payload, status, code):
    got, body, _ = post(svc, payload)
    assert (got, body["error"]["code"]) == (status, code)
    assert body["error"]["message"]


def test_truncated_png_through_the_service_is_400(svc):
    data = _valid_png()
    got, body, _ = post(svc, {"text": "x", "avatar": b64(data[: len(data) - 40])})
    assert (got, body["error"]["code"]) == (400, "invalid_avatar")


def test_without_the_ocr_package_the_profile_comes_from_the_text_alone(svc, monkeypatch):
    import coldstart.ocr as ocr_module

    class Missing(AvatarReader):
        def engine(self):
            raise ocr_module.OcrUnavailable("rapidocr-onnxruntime is not importable: ImportError")

    monkeypatch.setattr(ocr_module, "_DEFAULT_READER", Missing())
    status, body, _ = post(svc, {"text": "我喜欢打篮球", "avatar": b64(render("程序员"))})
    assert status == 200
    assert body["ocr"]["available"] is False and body["ocr"]["used"] is False and body["ocr"]["lines"] == []


# ---------------------------------------------------------------- "avatar": "s3://..." in the releases bucket

@pytest.fixture
def s3_svc(s3_bucket, s3_env, tiny_pipeline, tmp_path):
    from coldstart.service import ProfileService
    from coldstart.settings import ServingSettings
    from infra.cli import main

    server, bucket = s3_bucket
    uri = f"s3://{bucket}/cs"
    assert main(["publish", "--to", uri, "--index", str(tiny_pipeline / "idx"),
                 "--model", str(tiny_pipeline / "model"), "--version", "s1"]) == 0
    svc = ProfileService(ServingSettings(release_uri=uri, cache_dir=str(tmp_path / "cache"), refresh_seconds=0,
                                         min_confidence=0.0))
    return svc, server.client(), bucket


def test_an_s3_avatar_in_the_releases_bucket_is_read_and_fused(s3_svc):
    svc, client, bucket = s3_svc
    client.put_object(Bucket=bucket, Key="cs/avatars/u1.png", Body=render("程序员 | 跑步爱好者"))
    status, body, result = post(svc, {"text": "喜欢", "avatar": f"s3://{bucket}/cs/avatars/u1.png"})
    assert status == 200, body
    assert body["ocr"]["used"] is True and any("程序员" in line for line in body["ocr"]["lines"])
    assert "程序员" in result.masked_text


def test_s3_avatar_refusals_are_4xx_and_never_quote_the_key(s3_svc):
    svc, client, bucket = s3_svc
    client.put_object(Bucket=bucket, Key="cs/profiles/13812345678.png", Body=render("x"))
    client.put_object(Bucket=bucket, Key="cs/avatars/big.png", Body=b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024))
    cases = [
        ("s3://other-bucket/cs/avatars/u1.png", 400, "avatar_not_allowed"),
        (f"s3://{bucket}/cs/profiles/13812345678.png", 400, "avatar_not_allowed"),  # in the bucket, not an avatar
        (f"s3://{bucket}/cs/avatars/../profiles/13812345678.png", 400, "avatar_not_allowed"),
        (f"s3://{bucket}/cs/avatars/", 400, "avatar_not_allowed"),
        (f"s3://{bucket}/cs/avatars/13812345678.png", 404, "avatar_not_found"),
        (f"s3://{bucket}/cs/avatars/big.png", 413, "avatar_too_large"),
    ]
    for uri, status, code in cases:
        got, body, _ = post(svc, {"text": "x", "avatar": uri})
        assert (got, body["error"]["code"]) == (status, code), uri
        assert "13812345678" not in body["error"]["message"] and "big.png" not in body["error"]["message"]


def test_an_oversized_s3_avatar_is_refused_from_its_size_without_downloading(s3_svc, monkeypatch):
    from coldstart.storage.s3 import S3Store

    svc, client, bucket = s3_svc
    client.put_object(Bucket=bucket, Key="cs/avatars/big.jpg", Body=b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024))

    def no_download(self, *a, **kw):
        raise AssertionError("the object was downloaded")
    monkeypatch.setattr(S3Store, "iter_chunks", no_download)
    monkeypatch.setattr(S3Store, "get_bytes", no_download)
    got, body, _ = post(svc, {"text": "x", "avatar": f"s3://{bucket}/cs/avatars/big.jpg"})
    assert (got, body["error"]["code"]) == (413, "avatar_too_large")


def test_storage_down_gives_503_for_an_s3_avatar():
    from coldstart.avatar_source import AvatarSource
    from coldstart.storage import StoreSettings

    source = AvatarSource("s3://releases/cs", store_settings=StoreSettings(
        endpoint_url="http://127.0.0.1:9", max_attempts=1, connect_timeout=0.5, read_timeout=0.5))
    with pytest.raises(StorageError) as caught:
        source.fetch("s3://releases/cs/avatars/13812345678.png")
    status, body = error_response(caught.value)
    assert (status, body["error"]["code"]) == (503, "storage_unavailable")
    assert "13812345678" not in json.dumps(body) and "s3://" not in json.dumps(body)


# ---------------------------------------------------------------- the kiosk: same request, same report

@pytest.fixture(scope="module")
def kiosk_server(tiny_pipeline, tmp_path_factory):
    import threading

    from edge.kiosk import Kiosk, KioskConfig, serve
    from infra.cli import main

    release = tmp_path_factory.mktemp("kiosk-release")
    assert main(["publish", "--to", str(release), "--index", str(tiny_pipeline / "idx"),
                 "--model", str(tiny_pipeline / "model"), "--version", "k1"]) == 0
    kiosk = Kiosk(KioskConfig(release=str(release), data=tmp_path_factory.mktemp("kiosk-data"), backend="onnx",
                              sync_every=0, kiosk_id="kiosk-ocr"))
    server = serve(kiosk, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield kiosk, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    kiosk.close()


def test_the_kiosk_reports_the_masked_ocr_lines_and_keeps_no_raw_number(kiosk_server):
    kiosk, _ = kiosk_server
    raw = json.dumps({"text": "喜欢", "avatar": b64(render("跑步爱好者 13812345678", size=(520, 80)))}).encode("utf-8")
    status, body, headers = kiosk.profile(raw, "application/json")
    assert status == 200, body
    ocr = body["ocr"]
    assert ocr["used"] is True and ocr["pii_masked"] == {"PHONE": 1} and any("跑步" in line for line in ocr["lines"])
    assert {"fusion", "image_weight", "changed_top_tag", "text_only_top_tag", "profile_shift"} <= set(ocr)
    record = kiosk.outbox.conn.execute("SELECT masked_text FROM records WHERE id = ?",
                                       (headers["X-Outbox-Record"],)).fetchone()[0]
    assert "跑步" in record and "[PHONE]" in record and "13812345678" not in record


def test_the_kiosk_page_sends_the_chosen_avatar_and_shows_what_it_read(kiosk_server, chromium, tmp_path):
    _, url = kiosk_server
    image = tmp_path / "avatar.png"
    image.write_bytes(render("程序员 | 跑步爱好者"))
    page = chromium.new_page(viewport={"width": 1080, "height": 1920})
    try:
        page.goto(url + "/")
        page.wait_for_selector("#avatar-group:not([hidden])")  # offered: this runtime has OCR
        page.set_input_files("#avatar", str(image))
        page.fill("#text", "喜欢")
        page.click("#submit")
        page.wait_for_selector("body[data-state='done']", timeout=60000)
        lines = page.text_content("#ocr-lines")
        change = page.text_content("#ocr-change")
        assert page.locator("#error").is_hidden() and page.locator("#ocr").is_visible()
    finally:
        page.close()
    assert "程序员" in lines and "画像变化" in change
