"""Every crash, hang or leak the fuzzers found, kept as a named test.

Every one is fixed and passes; a new finding lands here first, named after what went wrong
(the name keeps the symptom: "answered_500" pins a 500 that must never come back).

"found by" names the fuzzer and, for atheris, the libFuzzer artefact (input SHA-1).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fuzz import plant, targets


def _manifest_error(fn, *args):
    from coldstart.errors import ManifestError

    with pytest.raises(ManifestError):
        fn(*args)


from tests.fuzz.seeds import release_documents  # noqa: E402

VALID_RELEASE = json.loads(release_documents(None)["release.json"])
VALID_INDEX = json.loads(release_documents(None)["index_manifest.json"])


def _release(**changes) -> bytes:
    doc = dict(VALID_RELEASE, **changes)
    return json.dumps(doc).encode()


# ---------------------------------------------------------------------------- manifests (fixed)

def test_fuzz_release_manifest_with_files_as_a_list_raised_attribute_error():
    """found by: review while writing the manifest oracle. ``raw["files"].items()`` on a list escaped
    as AttributeError instead of ManifestError, so a refresh with such a release.json crashed."""
    from coldstart.release import ReleaseManifest

    _manifest_error(ReleaseManifest.from_bytes, _release(files=[]))
    _manifest_error(ReleaseManifest.from_bytes, _release(files="index/index.ann"))


def test_fuzz_deeply_nested_json_raised_recursion_error():
    """found by: hypothesis (``b"[" * 200000``). json.loads raises RecursionError, which none of
    the readers caught: release.json, current.json and manifest.read_json now raise ManifestError."""
    from coldstart.release import ReleaseManifest, read_current

    deep = b"[" * 200000
    _manifest_error(ReleaseManifest.from_bytes, deep)
    _manifest_error(read_current, targets.BytesStore(b'{"a":' * 200000))
    assert targets.check_release_manifest(deep) is None


def test_fuzz_read_json_of_deeply_nested_file_raised_recursion_error(tmp_path):
    """found by: review of the same finding in manifest.read_json (index and model manifests)."""
    from coldstart.manifest import read_json

    path = tmp_path / "manifest.json"
    path.write_bytes(b"[" * 200000)
    _manifest_error(read_json, path)


@pytest.mark.parametrize("entry", [
    {"sha256": "0c8ca1302df00fae?b986b0716304fc5a9e63bd450201309c30bb589848d00f0", "size": 3},  # atheris crash-5ea7dfe2
    {"sha256": 5, "size": 3}, {"sha256": "A" * 64, "size": 3}, {"sha256": "a" * 63, "size": 3},
    {"sha256": "a" * 64, "size": -1}, {"sha256": "a" * 64, "size": True}, {"sha256": "a" * 64, "size": "3"},
    {"sha256": "a" * 64, "size": 3, "extra": 1}, ["a" * 64, 3],
])
def test_fuzz_release_manifest_accepted_a_malformed_file_entry(entry):
    """found by: atheris, manifest target (crash-5ea7dfe26313cc619b01f8f53e7e1e19fda992d8, a sha256
    with a '?'). Any value was accepted as sha256/size; a numeric sha256 later broke ``sha256[:12]``
    in /health and every profile's model_version."""
    from coldstart.release import ReleaseManifest

    _manifest_error(ReleaseManifest.from_bytes, _release(files={"index/index.ann": entry}))


@pytest.mark.parametrize("name", ["", "a//b", "index/../../etc/passwd", "/abs", "a\\..\\b", "a\x00b"])
def test_fuzz_release_manifest_accepted_an_unsafe_file_name(name):
    """found by: review while writing the oracle. Only a leading '/' and '..' parts were refused;
    empty names or parts, backslashes and NUL now are too (names become cache paths)."""
    from coldstart.release import ReleaseManifest

    _manifest_error(ReleaseManifest.from_bytes, _release(files={name: {"sha256": "a" * 64, "size": 1}}))


@pytest.mark.parametrize("teacher", [{"id": 1, "weights_sha256": "x", "dim": 32}, {"id": "t", "weights_sha256": "x",
                                     "dim": "32"}, {"id": "t", "weights_sha256": "x", "dim": 0},
                                     {"id": "t", "weights_sha256": "x", "dim": 32, "demo": "no"}, ["t"], "t"])
def test_fuzz_release_manifest_accepted_a_malformed_teacher(teacher):
    """found by: hypothesis (mutated release.json / index manifest: teacher id null accepted).
    TeacherInfo(**x) took any types; dim "32" then never matched the index's 32."""
    from coldstart.release import ReleaseManifest

    _manifest_error(ReleaseManifest.from_bytes, _release(teacher=teacher))


@pytest.mark.parametrize("changes", [{"dim": float("inf")}, {"dim": float("-inf")}, {"count": float("nan")},
                                     {"files": []}, {"recall": []}, {"teacher": None}, {"created_at": 5},
                                     {"dim": True}, {"dim": -3}])
def test_fuzz_index_manifest_infinity_or_wrong_types_escaped_as_other_errors(changes):
    """found by: review while writing the oracle (JSON ``Infinity`` parses to float inf).
    ``int(inf)`` raised OverflowError and ``files.items()`` AttributeError, not ManifestError."""
    from coldstart.manifest import IndexManifest

    _manifest_error(IndexManifest.from_dict, dict(VALID_INDEX, **changes))


@pytest.mark.parametrize("doc", [{"version": "v1", "release_sha256": 5, "published_at": "t"},
                                 {"version": "v1", "release_sha256": "a", "published_at": None},
                                 {"version": "v1", "release_sha256": "a", "published_at": "t", "previous": 7},
                                 {"version": "v1", "release_sha256": "a", "published_at": "t", "previous": "../x"},
                                 ["v1"], "v1"])
def test_fuzz_current_pointer_accepted_non_string_fields(doc):
    """found by: hypothesis (mutated current.json: release_sha256 null accepted); non-string hashes,
    times and previous versions are now refused."""
    from coldstart.release import read_current

    _manifest_error(read_current, targets.BytesStore(json.dumps(doc).encode()))


def test_the_published_format_still_reads():
    from coldstart.release import ReleaseManifest, read_current

    manifest = ReleaseManifest.from_bytes(_release())
    assert manifest.files["index/index.ann"].size == 3 and manifest.teacher.dim == 32
    pointer = read_current(targets.BytesStore(json.dumps({"version": "v2", "release_sha256": "a" * 64,
                                                          "published_at": "t", "previous": "v1"}).encode()))
    assert (pointer.version, pointer.previous) == ("v2", "v1")


# ---------------------------------------------------------------------------- PII masker (fixed)

def test_fuzz_wxid_glued_to_a_qq_number_surfaced_only_after_masking():
    """found by: atheris, pii target (crash-87f6415d85782fb6587e56b6f6f912e10ac8291a).
    ``QQ号:12345678wxid_abc123``: the wxid after a digit was left alone; masking the QQ number
    then put ']' before it, so the output still held a WeChat id (masking was not complete)."""
    from coldstart.pii import mask_pii

    r = mask_pii("QQ号:12345678wxid_abc123")
    assert r.text == "QQ号:[QQ][WECHAT]" and r.counts == {"QQ": 1, "WECHAT": 1}
    assert mask_pii(r.text).text == r.text
    targets.check_mask("微信：wxid_abc123 QQ号:12345678wxid_abc123 Q 邮箱e@b.cn 0755-12345678转123 ６２２２ １２３４")


def test_fuzz_email_glued_to_the_end_of_another_surfaced_only_after_masking():
    """found by: atheris, pii target, 10-minute run (failure-22fe003b9c5b89d71e7430a1976d04432f3031a9:
    ``:+6@nafa\\0\\0a.or3a+6@nafa\\0\\0a.or3``). The TLD pattern stops inside "or3a", and the next
    address could not start right after a match, so it stayed in the output until a second pass."""
    from coldstart.pii import mask_pii

    r = mask_pii("+6@nafaa.or3a+6@nafaa.or3")
    assert r.text == "[EMAIL][EMAIL]3" and r.counts == {"EMAIL": 2}
    targets.check_mask(":+6@nafa\x00\x00a.or3a+6@nafa\x00\x00a.or3")
    assert mask_pii("x a@b.cc-uk y").text == "x [EMAIL]-uk y"  # no address after the first: unchanged


@pytest.mark.parametrize("hidden", ["\u200b", "\u00ad", "\ufeff", "\u2060", "\u200e", "\x00", "\x7f"])
def test_fuzz_invisible_character_inside_a_phone_number_survived_preprocessing(hidden):
    """found by: hypothesis (test_the_service_preprocessing_masks_values_split_by_invisible_characters).
    prepare_text masks, then normalises: "138<ZWSP>1234<ZWSP>5678" was not a phone number to the
    masker, and normalisation then removed the ZWSP, so the stored masked_text (profile store,
    kiosk outbox) held 13812345678. mask_pii now re-masks the cleaned text when it differs."""
    from coldstart.pii import mask_pii
    from coldstart.preprocess import prepare_text

    clean, counts = prepare_text(f"电话138{hidden}1234{hidden}5678，身份证11010519491231002{hidden}X")
    assert clean == "电话[PHONE],身份证[ID]" and counts == {"PHONE": 1, "ID_CARD": 1}
    assert mask_pii("没有号码" + hidden).text == "没有号码" + hidden  # nothing found: plain NFKC, as before


def test_fuzz_wechat_placeholder_read_as_a_wechat_id_on_the_second_pass():
    """found by: atheris, pii target (crash-03aebb0502e56c6d50d339dc31709891085e7c8d, issue 12 masker).
    "微信：wxw_1995" masked to "微信:[WECHAT]"; masking that again read "WECHAT" (a letter and 5 more,
    after the keyword and a '[' separator) as an id, so the output was not complete."""
    from coldstart.pii import mask_pii

    r = mask_pii("微信：wxw_1995")
    assert r.text == "微信:[WECHAT]" and mask_pii(r.text).counts == {}
    targets.check_mask("微信：wxw_1995，QQ：384729105，微信[ADDRESS]")


def test_fuzz_a_placeholder_near_a_bare_v_read_as_a_wechat_id():
    """found by: hypothesis, test_masker_removes_every_planted_value_whatever_surrounds_it (CI's derandomized
    run on a clean clone, 2026-12-05, issue 12's third masker round). The nearby rule took "BANK_CARD" inside
    "[BANK_CARD]" for an id-shaped token (letters and an underscore) near a bare "V", so the second pass of
    masking masked the placeholder: the output was not complete."""
    from coldstart.pii import mask_pii

    text = "，电话13000000000。V，电话2000000000000006。"
    r = mask_pii(text)
    assert r.counts == {"PHONE": 1, "BANK_CARD": 1} and mask_pii(r.text).counts == {}
    for placeholder in ("[BANK_CARD]", "[ID_CARD]", "[LICENSE_PLATE]", "[WECHAT]"):
        assert mask_pii("加我 " + placeholder + "，vx 见简介").counts == {}, placeholder


def test_fuzz_passport_placeholder_acted_as_passport_context():
    """found by: atheris, pii target (crash-ccbd292787efe3e47120bb442cd7091cf0c98bd4, issue 12 masker).
    After "E09660291" became "[PASSPORT]", the word PASSPORT inside the placeholder was a context word
    for the 8 digits that followed ("...[PASSPORT]。,电话[PHONE]。00000452"), so a second pass masked more."""
    from coldstart.pii import mask_pii

    text = "，电话G32868932。，电话+86 130-4245-8395。00000452。"
    r = mask_pii(text)
    assert r.counts == {"PASSPORT": 1, "PHONE": 1} and "00000452" in r.text
    assert mask_pii(r.text).counts == {}
    assert mask_pii("PASSPORT 548273916").counts == {"PASSPORT": 1}  # the word itself still counts


def test_fuzz_number_glued_to_an_address_tld_surfaced_only_after_masking():
    """found by: atheris, pii target, 4-minute run (crash-0dd8599eded0f220fb2420612ae58769dabfbb68).
    In "djbaa+826@nafaaka.or19650017919g" the TLD stops at "or" and the digits after it were skipped as a
    code ("or1965...", like "SF1234..."); once the address was masked they stood alone and a second pass
    masked a phone. Letters after a dot no longer make a code, and a placeholder glued to letters or
    digits triggers one more pass in MaskingEngine.mask."""
    from coldstart.pii import mask_pii

    r = mask_pii("t/djbaa+826@nafaaka.or19650017919g。")
    assert r.text == "t/[EMAIL][PHONE]g。" and r.counts == {"EMAIL": 1, "PHONE": 1}
    assert mask_pii(r.text).counts == {}
    assert mask_pii("快递JDVA18589676494").counts == {}  # letters at a word start are still a code


def test_fuzz_digit_run_split_by_a_wechat_id_joined_up_after_masking():
    """found by: atheris, pii target, 5-minute run (crash-482176ac67e24a3c15f13685f6d8616e7fcf3a98).
    "微一：wxiw_abc1<lone surrogates>23 ...洞洞二...456...23...洞洞二...45678...１２３４": the WeChat id took the
    digits at the start of a long digit run; without them, the rest of the run read as a Luhn-valid card on
    a second pass. MaskingEngine.mask masks again when digits sit next to a placeholder."""
    data = ("微一：wxiw_abc1" + "\udcb2" * 5 + "23 \udcb9\udcba洞洞二\udce4" + "\x00" * 5 + "456" + "\udcb2" * 11
            + "23 \udcb9\udcba洞洞二\udce4" + "\x00" * 5 + "45678\udce8\udcbd\x00１２３４")
    targets.check_mask(data)


# ---------------------------------------------------------------------------- handler (not fixed here)

GOOD_BODY = json.dumps({"text": "我喜欢打篮球"})


def _v1(**changes):
    return dict(targets.make_event(GOOD_BODY, v2=False), **changes)


def _v2(**changes):
    return dict(targets.make_event(GOOD_BODY, v2=True), **changes)


@pytest.mark.parametrize("event", [_v2(requestContext=None), _v2(requestContext="x"), _v2(requestContext={"http": []})],
                         ids=["null", "string", "http-list"])
def test_fuzz_event_non_object_request_context_raised_attribute_error(harness, event):
    """found by: a probe of the handler harness (same class as the garbage-event finding below).
    AttributeError out of the handler: Lambda reports an
    invocation error and API Gateway answers 502."""
    assert harness.run(event)["status"] == 400


@pytest.mark.parametrize("event", [_v1(httpMethod=5), _v1(path=5), _v2(rawPath=["x"]),
                                   _v2(requestContext={"http": {"method": None}})],
                         ids=["v1-method", "v1-path", "v2-path", "v2-method-null"])
def test_fuzz_event_non_string_method_or_path_raised_attribute_error(harness, event):
    """found by: hypothesis (garbage events: httpMethod/path ``false``): ``.upper()`` / ``.rstrip()``
    on a bool, int, list or None."""
    assert harness.run(event)["status"] in (400, 404, 405)


@pytest.mark.parametrize("headers", [["content-type"], "application/json"], ids=["list", "string"])
def test_fuzz_event_non_object_headers_raised_attribute_error(harness, headers):
    """found by: a probe of the handler harness: ``headers.items()`` on a list or string."""
    event = _v1(headers=headers)
    assert harness.run(event)["status"] == 400


@pytest.mark.parametrize("value", [5, ["application/json"], {"a": 1}], ids=["int", "list", "object"])
def test_fuzz_event_non_string_content_type_answered_500(harness, value):
    """found by: a probe of the handler harness: AttributeError inside ProfileService.handle, logged
    as 'internal error' and answered 500. API Gateway only ever sends string header values, so such
    an event is refused as malformed before routing (400 invalid_event)."""
    event = _v1(headers={"Content-Type": value})
    result = harness.run(event)
    assert result["status"] == 400 and result["body"]["error"]["code"] == "invalid_event"


@pytest.mark.parametrize("body", [{"text": "x"}, -1, [1000], 1.5], ids=["object", "negative-int", "list", "float"])
def test_fuzz_event_non_string_body_answered_500(harness, body):
    """found by: hypothesis (garbage events: ValueError at api.py ``bytes(body)``) → 500.
    (``bytes(10**12)`` would also try to allocate a terabyte; not run here.)"""
    event = _v1(body=body)
    assert harness.run(event)["status"] == 400


@pytest.mark.parametrize("raw", ['{"text": "x\\ud800"}', '{"text": "ok", "fields": {"bio": "\\udfff\\ud800"}}'],
                         ids=["text", "field"])
def test_fuzz_text_with_lone_surrogate_escape_answered_500(harness, raw):
    """found by: a probe of the handler harness (the CI-budget hypothesis run does not reach it;
    its oracle would catch it: status 500). The JSON escape "\\ud800" is valid
    JSON and gives a lone surrogate; the SimHash cache's .encode("utf-8") raised → 500."""
    event = _v1(body=raw)
    assert harness.run(event)["status"] in (200, 400)


@pytest.mark.parametrize("where", ["top-level", "fields-value-type", "fields-too-long"])
def test_fuzz_personal_data_in_a_json_key_is_echoed_in_the_error_message(harness, where):
    """found by: review of the PII oracle against api.py (the fuzzers plant values, not keys).
    A phone number used as a key comes back in the 400/413 message, which also goes to logs
    of any caller that logs error bodies."""
    p = plant.phone(4242)
    digits = p.secrets[-1]
    body = {"top-level": {"text": "x", digits: 1}, "fields-value-type": {"text": "x", "fields": {digits: 1}},
            "fields-too-long": {"text": "x", "fields": {digits: "长" * 501}}}[where]
    harness.run(targets.make_event(json.dumps(body), v2=True), [plant.Planted("PHONE", digits, (digits,))])


def test_fuzz_masking_a_value_does_not_lift_the_veto_it_set_for_a_nearby_number():
    """found by: atheris (pii target) on a clean clone, 2026-12-05. The QQ nearby rule vetoes a number when
    digits stand between it and the keyword; masking the WeChat id between them took its digits away, so a
    second pass read "9000 0210" as the QQ number the first pass had rightly left (masking not idempotent)."""
    from coldstart.pii import mask_pii

    r = mask_pii("电话9000 0210 信：wxid_abc123 QQ号2047 6791 359。")
    assert r.counts == {"WECHAT": 1, "QQ": 1}
    assert mask_pii(r.text).counts == {}


def test_fuzz_the_qq_of_a_placeholder_is_no_keyword_for_a_later_number():
    """found by: atheris (pii target), 2026-12-05, right after the fix above: in a second pass the "QQ" inside
    the placeholder "[QQ]" served the nearby rule as a keyword for the digits after it."""
    from coldstart.pii import mask_pii

    text = ("有同好\udce5xid_abc123 QQ号:12345678 邮箼\udc92２２ １\udcef\udcbc\x12３４\udc90\udc97\udcbc\udc91２３４"
            "\udc90\udc97！")
    r = mask_pii(text)
    assert r.counts == {"QQ": 1}
    assert mask_pii(r.text).counts == {}


def test_fuzz_a_keyword_whose_value_is_masked_does_not_reach_for_a_later_number():
    """found by: atheris (pii target), 2026-12-05: "QQ号:12345678 :123453" leaves 123453 (the keyword's value is
    12345678), but on the masked text "QQ号:[QQ] :123453" the keyword had no number right after it and the
    later-in-clause rule took 123453."""
    from coldstart.pii import mask_pii

    r = mask_pii("微信：3 QQ号:123453 QQ号:12345678 :123453 QQ号:12345678 pcn 05")
    assert mask_pii(r.text).counts == {}


@pytest.mark.parametrize("text, counts", [
    ("电话15812904185。d_abc123 QQ号:12345678 ~V箱", {"PHONE": 1, "QQ": 1}),
    ("我的号 d_abc123 QQ号:12345678 ~V", {"QQ": 1}),
    ("d_abc123 电话15812904185 微信", {"PHONE": 1}),
])
def test_fuzz_a_placeholder_shortened_the_distance_from_a_wechat_id_to_its_keyword(text, counts):
    """found by: atheris (pii target) on a clean clone, 2026-12-05: the WeChat nearby rule reads a keyword at
    most 14 characters after an id; "d_abc123 QQ号:12345678 ~V" puts the V 15 on, but once the QQ number
    is "[QQ]" it is 11 on, and a second pass masked d_abc123 that the first had left. A placeholder between
    keyword and id now vetoes like a veto word (the first pass never sees one where a value stood)."""
    from coldstart.pii import mask_pii

    r = mask_pii(text)
    assert r.counts == counts and "d_abc123" in r.text
    assert mask_pii(r.text).counts == {}


def test_fuzz_a_placeholder_lifted_the_veto_on_a_bare_qq_number():
    """found by: atheris (pii target), 2026-12-05: a bare 9-digit number is no QQ number when a word such as
    "id" stands before it in its clause; "wxid_abc12叫 386095580" held that "id" until the WeChat id was
    masked, and a second pass then read the number as a QQ number. A placeholder before it now vetoes too."""
    from coldstart.pii import mask_pii

    r = mask_pii("wxid_abc12叫 386095580。")
    assert r.counts == {"WECHAT": 1} and "386095580" in r.text
    assert mask_pii(r.text).counts == {}
    assert mask_pii("我叫令狐婷，山西人，2159843067").counts == {"PERSON_NAME": 1, "QQ": 1}  # the rule itself still reads


def test_fuzz_the_nearby_rules_first_test_read_other_keywords_than_the_rule():
    """found by: atheris (pii target), 2026-12-05: the QQ nearby rule's cheap first test asked whether one of
    analyze()'s keywords ("QQ", not "ZQ号") ended within 36 characters, then the rule itself accepted any of its
    own keywords ("Q号"). Masking an e-mail between brought the unrelated "QQ" within reach, and a second pass
    masked what the first had left. The first test now reads the rule's own keywords (QQ and WeChat alike)."""
    from coldstart.pii import mask_pii

    text = "周QQ幺濡:wx,电话hvxy.506@pvks.com.cn。i;d_abc123 ZQ号:12洞洞4二二:12洞洞4二二六。"
    r = mask_pii(text)
    assert mask_pii(r.text).counts == {}
    short = mask_pii("周QQ幺濡:wx,电话[EMAIL]。i;d_abc123 ZQ号:12洞洞4二二:12洞洞4二二六。")
    assert r.counts.get("QQ", 0) == short.counts.get("QQ", 0)  # the e-mail's length no longer decides


def test_fuzz_a_keyword_glued_to_the_number_counted_only_in_a_cut_window():
    """found by: atheris (pii target), 2026-12-05: keyword_nearby matched its keywords in the text cut at the
    number, where "Q" in "Q22 3234" passes its lookahead (nothing follows); in the whole text it is no keyword.
    So the rule took the number only when another "QQ" stood within the first test's reach, which masking the
    ids between changed. Keywords are now matched in the whole text and kept by position."""
    from coldstart.pii import mask_pii
    from coldstart.pii.recognizers import qq
    from coldstart.pii.recognizers.base import keyword_nearby

    view = "微娏:[WECHAT] QQ喽:06172839 邮箱[EMAIL]$ 075:[WECHAT]㭼Q22 3234"
    start = view.index("22 3234")
    assert not keyword_nearby(view, start, start + 7, qq._NEAR_KEYWORD_RE, qq._NEAR_VETO_RE)
    r = mask_pii("微娏：wxid_abc123 QQ喽:06172839 邮箱a@b.cn$ 075：wxid_abc12㭼Q２２ 3２３４")
    assert r.counts == {"WECHAT": 2, "EMAIL": 1} and mask_pii(r.text).counts == {}


@pytest.mark.parametrize("text", ["王福来13812345678", "全合来711000@qraaaaa.org。1", "联系人王福来13812345678"])
def test_fuzz_a_placeholder_ended_a_name_clause_the_value_did_not(text):
    """found by: atheris (pii target), 2026-12-05: "全合来711000@qraaaaa.org" is no name clause (digits and
    letters follow), but once the e-mail was "[EMAIL]" its "[" ended the clause and a second pass masked 全合来.
    A placeholder's brackets now neither end nor start a name clause (nor count as the boundary before a name)."""
    from coldstart.pii import mask_pii

    r = mask_pii(text)
    assert mask_pii(r.text).counts == {}
    assert mask_pii("联系人：王芳，13812345678").counts == {"PERSON_NAME": 1, "PHONE": 1}  # a real clause still is


def test_fuzz_a_placeholder_ended_a_mail_provider_the_digits_continued():
    """found by: atheris (pii target), 2026-12-05: "12a0[at]qq8345678" is no mailbox ("qq" runs on into digits),
    but once the digits were the QQ number "[QQ]", "12a0[at]qq" read as a mailbox at qq with its TLD left out.
    A placeholder after the provider now continues it, like the value it replaced."""
    from coldstart.pii import mask_pii

    r = mask_pii("0755-12a0[at]qq8345678转123")
    assert r.counts == {"QQ": 1} and mask_pii(r.text).counts == {}
    assert mask_pii("邮箱：zhangsan@qq").counts == {"EMAIL": 1}


def test_masking_is_idempotent_on_every_dev_corpus_text():
    """Not a fuzz find: masking the masked output of every text of the independent dev corpora finds nothing
    more. (It once did for dev6's "…外环西路230号，宿舍自提，1386529047": the address's 号 vetoed the bare QQ
    number, "[ADDRESS]" did not, and the 12-character window cut the placeholder.)"""
    from coldstart.pii import mask_pii

    root = Path(__file__).resolve().parents[2] / "data" / "eval" / "pii"
    texts = [json.loads(line)["text"] for path in sorted(root.glob("dev*/*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(texts) > 5000
    again = [(t, mask_pii(mask_pii(t).text).counts) for t in texts]
    assert [c for _, c in again if c] == []


def test_fuzz_a_placeholder_split_a_run_whose_tail_the_bare_rule_then_read():
    """found by: atheris (pii target), 2026-12-05: "13812345678 + 25 spaces + 1006086143" is one digit run of two
    groups, which the bare-QQ rule leaves; once the mobile was "[PHONE]" the tail stood alone and a second pass
    read it as a QQ number. A number after a placeholder and group separators only is now left too."""
    from coldstart.pii import mask_pii

    r = mask_pii("联系我13812345678" + " " * 25 + "1006086143")
    assert r.counts == {"PHONE": 1} and mask_pii(r.text).counts == {}


@pytest.mark.parametrize("text", ["设计师东方a@b.cb!!", "我是主播Yuki的运营，真名杜欣悦，商务合作请发邮件yuki_biz@163.com或联系Q3490215867"])
def test_fuzz_a_placeholder_read_as_the_boundary_after_a_name(text):
    """found by: atheris (pii target), 2026-12-05: "设计师东方a@b.cb" has no name (a letter follows 东方), but in
    "设计师东方[EMAIL]" the bracket was a boundary and a second pass masked 师东方 / 东方. The name rules now read a
    placeholder as Han filler that ends and starts no name (not as ASCII letters: "联系Q[QQ]" then read as the Latin
    name "Qxxxx", the second text, from dev5)."""
    from coldstart.pii import mask_pii

    r = mask_pii(text)
    assert mask_pii(r.text).counts == {}


def test_fuzz_the_name_rules_filler_for_a_placeholder_read_as_a_name():
    """found by: atheris (pii target), 2026-12-05, right after the filler was introduced: "我系[QQ]" read 我 + a
    four-character name of filler (non-Han names need no surname). Filler is never part of a name."""
    from coldstart.pii import mask_pii

    r = mask_pii("微5-?wxid_abc07我系4444444422 QQ?wxid_abc071 QQ.0^:?wxid_abc12[ QQ.. 12345")
    assert "PERSON_NAME" not in r.counts and mask_pii(r.text).counts == {}
    assert mask_pii("我系[QQ]").counts == {}


def test_fuzz_glued_wxids_came_free_one_per_masking_pass():
    """found by: atheris (pii target), 2026-12-05: "wxid_…2wxid_…5wxid_…" — a wxid had to end where no letter or
    digit follows, so each masking pass set one more free, past the engine's bound of passes. A wxid may now end
    where the next "wxid_" starts (and the engine allows four more passes instead of two)."""
    from coldstart.pii import mask_pii

    text = "wxid_abc3693649912wxid_abc0755wxid_abc071234567wxid_abc0755wxid_abc0712345672wxid_abc0755a123ail.nezzztzzz"
    r = mask_pii(text)
    assert "wxid" not in r.text and mask_pii(r.text).counts == {}
    # found by: hypothesis (test_masker_has_no_catastrophic_backtracking), right after: "wxid_a" x 100 split into
    # chains when an id could end before any "wxid_"; now only after a digit, where the next one may start
    for repeated in ("wxid_a" * 100, "wxid_abc1" * 50):
        assert mask_pii(mask_pii(repeated).text).counts == {}


def test_fuzz_a_masked_name_took_the_veto_word_it_held():
    """found by: atheris (pii target), 2026-12-05, the last run of the session: in "联系Swww喽,栠联系SY_5678" the name
    "Swww" holds "www", a word that vetoes the WeChat contact-verb rule for SY_5678; once it was "[NAME]" the veto
    was gone (and the 8-character window cut the placeholder's "["). A placeholder's end vetoes too."""
    from coldstart.pii import mask_pii

    r = mask_pii("产联系Swww喽，栠联系SY_5678")
    assert mask_pii(r.text).counts == {}
