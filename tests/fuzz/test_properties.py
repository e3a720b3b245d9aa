"""Property-based fuzzing (hypothesis) of the handler, PII masker, text normaliser, tokenizer,
manifest readers and image decoder, against the oracles in tests/fuzz/targets.py.

CI runs a fixed, derandomised budget (the examples below). A longer, randomised run:

    COLDSTART_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest -q tests/fuzz/test_properties.py

(every test then runs that many examples; failures print a reproducible ``@reproduce_failure``).
"""
from __future__ import annotations

import base64
import copy
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import plant, targets
from tests.fuzz.seeds import png_header_only, release_documents, sample_texts, seed_images

LONG_RUN = int(os.environ.get("COLDSTART_FUZZ_EXAMPLES", "0") or 0)


def budget(ci_examples: int):
    """hypothesis settings: ci_examples derandomised in CI, or COLDSTART_FUZZ_EXAMPLES randomised."""
    return settings(max_examples=LONG_RUN or ci_examples, deadline=None, derandomize=not LONG_RUN,
                    database=None if not LONG_RUN else settings.default.database,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


# ------------------------------------------------------------------------- strategies

planted_values = st.builds(plant.make, st.integers(0, len(plant.KINDS) - 1), st.integers(0, 10 ** 12),
                           st.integers(0, 100))
# all of Unicode, lone surrogates included (a JSON "\ud800" escape delivers one)
any_text = st.text(st.characters(blacklist_categories=()), max_size=80)
# characters the masker's patterns care about, to build near-misses around planted values
_TRICKY = list("0123456789０１２３４５６７８９ -+()@._#xX转:：=是号") + ["微信", "wx", "QQ", "扣扣", "+86", "0086", "ext",
                                                               "\u200b", "\u3000", "ID", "wxid_", ".com", "\ud800", "。"]
tricky_text = st.lists(st.one_of(st.sampled_from(_TRICKY), st.text(max_size=3)), max_size=30).map("".join)
noise = st.one_of(any_text, tricky_text, st.sampled_from(sample_texts()))


# ------------------------------------------------------------------------- PII masker and text

@budget(400)
@given(noise, st.lists(st.tuples(planted_values, noise), min_size=1, max_size=3))
def test_masker_removes_every_planted_value_whatever_surrounds_it(prefix, parts):
    text = prefix + "".join(p.framed() + after for p, after in parts)
    result = targets.check_mask(text, [p for p, _ in parts])
    assert result.total >= len(parts)


# Cf/Cc characters that normalize_text removes (whitespace is a real separator, not hidden)
_INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u202e", "\x00", "\x7f",
              "\x1b"]


@budget(300)
@given(noise, planted_values, st.lists(st.tuples(st.integers(0, 40), st.sampled_from(_INVISIBLE)), min_size=1,
                                       max_size=4), noise)
def test_the_service_preprocessing_masks_values_split_by_invisible_characters(before, p, inserts, after):
    """coldstart.preprocess.prepare_text (mask, then normalise): invisible characters inside a
    planted value must not let its digits through once normalisation removes them."""
    from coldstart.preprocess import prepare_text

    written = p.written
    for pos, ch in inserts:
        written = written[:pos % (len(written) + 1)] + ch + written[pos % (len(written) + 1):]
    secret_free = plant.Planted(p.kind, written, tuple(s for s in p.secrets if s != p.written) or p.secrets)
    clean, counts = prepare_text(before + plant.LEFT + written + plant.RIGHT + after)
    assert plant.leaked([secret_free], clean) is None, (written, clean)
    assert sum(counts.values()) >= 1


@budget(400)
@given(st.one_of(any_text, tricky_text))
def test_masker_output_is_complete_and_never_raises(text):
    targets.check_mask(text)


@budget(60)
@given(st.sampled_from(["a@", "1-", "微信 ", "QQ:", "1" * 17 + " ", "0755-", "+86 1", "a.", "x@a.", "wxid_a",
                        "6222 ", "1 ", "@a", "(+86)"]), st.integers(100, 6000))
def test_masker_has_no_catastrophic_backtracking(unit, repeat):
    """The largest text a request can carry (2,000 + 20 x 500 characters), repeated patterns: bounded time."""
    targets.check_mask((unit * repeat)[:12000])


@budget(300)
@given(any_text, st.one_of(st.none(), st.integers(0, 100)))
def test_normalize_text_invariants(text, max_chars):
    targets.check_normalize(text, max_chars)


# ------------------------------------------------------------------------- tokenizer

@pytest.fixture(scope="module")
def tokenizers():
    from coldstart.tokenizer import WordPieceTokenizer

    vocab = targets.tiny_vocab()
    return [WordPieceTokenizer(vocab, max_seq_len=128), WordPieceTokenizer(vocab, max_seq_len=8),
            WordPieceTokenizer(vocab, max_seq_len=16, atomic_special_tokens=False)]


@budget(300)
@given(st.integers(0, 2), st.one_of(any_text, tricky_text, st.sampled_from(sample_texts()),
                                    st.text(st.sampled_from("aAbB[]SEPCLUNK#é\u0301\u0308ß İﬁ"), max_size=40)),
       st.one_of(st.none(), any_text))
def test_tokenizer_encodes_any_text_validly(tokenizers, which, text, pair):
    targets.check_tokenizer(tokenizers[which], text, pair)


# ------------------------------------------------------------------------- manifests

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70), st.floats(allow_nan=True),
                      st.text(max_size=70), st.sampled_from(["../x", "/etc/passwd", "", "a//b", "v1", "0" * 64]))
json_value = st.recursive(json_leaf, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), kids, max_size=4)),
                          max_leaves=12)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated_document(draw, name):
    """A valid manifest with 1-3 places replaced by arbitrary JSON, or deleted."""
    return _mutate(draw, json.loads(release_documents(None)[name]))


def _mutate(draw, doc, max_depth: int = 0):
    """Replace 1-3 places of ``doc`` (at most ``max_depth`` keys deep; 0: any) by arbitrary JSON,
    or delete them. In place; returns ``doc``."""
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p and (not max_depth or len(p) <= max_depth)]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_value)
    return doc


def _dumps(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


@budget(300)
@given(st.one_of(mutated_document("release.json").map(_dumps), st.binary(max_size=200),
                 st.integers(1, 200000).map(lambda n: b"[" * n), json_value.map(_dumps)))
def test_release_manifest_reader_raises_only_manifest_error(data):
    targets.check_release_manifest(data)


@budget(300)
@given(st.one_of(mutated_document("index_manifest.json"), json_value))
def test_index_manifest_reader_raises_only_manifest_error(doc):
    targets.check_index_manifest(doc)


@budget(200)
@given(st.one_of(st.none(), mutated_document("current.json").map(_dumps), st.binary(max_size=100),
                 st.integers(1, 200000).map(lambda n: b"{\"a\":" * n)))
def test_current_pointer_reader_raises_only_manifest_error(data):
    targets.check_current(data)


@budget(200)
@given(st.one_of(mutated_document("model_manifest.json"), json_value))
def test_model_manifest_reader_raises_only_manifest_error(doc):
    targets.check_model_manifest(doc)


@budget(200)
@given(st.one_of(mutated_document("canaries.json"), json_value))
def test_canaries_reader_raises_only_manifest_error(doc):
    targets.check_canaries(doc)


def test_the_real_published_manifests_are_accepted(fuzz_release):
    """The oracles are not vacuous: what infra publish writes passes every check."""
    docs = release_documents(fuzz_release)
    assert targets.check_current(docs["current.json"]).version == "fuzz1"
    release = targets.check_release_manifest(docs["release.json"])
    assert release.version == "fuzz1" and "index/index.ann" in release.files
    assert targets.check_index_manifest(json.loads(docs["index_manifest.json"])).count == 300
    assert targets.check_model_manifest(json.loads(docs["model_manifest.json"])).serving.onnx == "student.int8.onnx"
    assert len(targets.check_canaries(json.loads(docs["canaries.json"])).canaries) == 8


# ------------------------------------------------------------------------- image decoder

SEED_IMAGES = seed_images()


@st.composite
def mutated_image(draw):
    data = bytearray(draw(st.sampled_from(SEED_IMAGES)))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        op = draw(st.integers(0, 3))
        i = draw(st.integers(0, len(data) - 1))
        if op == 0:
            data[i] = draw(st.integers(0, 255))
        elif op == 1:
            del data[i:i + draw(st.integers(1, 64))]
        elif op == 2:
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        else:
            data = data[:i]
    return bytes(data)


@budget(300)
@given(st.one_of(mutated_image(), st.binary(max_size=64),
                 st.tuples(st.integers(0, 70000), st.integers(0, 70000)).map(lambda wh: png_header_only(*wh))))
def test_image_decoder_returns_a_bounded_rgb_image_or_a_4xx(data):
    targets.check_image(data)


def test_image_oracle_is_not_vacuous():
    decoded = [targets.check_image(d) for d in SEED_IMAGES]
    assert sum(img is not None for img in decoded) >= 10
    assert max(max(img.size) for img in decoded if img is not None) == 960  # the 3000 px one, downscaled


# ------------------------------------------------------------------------- handler

headers_values = st.one_of(st.sampled_from(targets.CONTENT_TYPES), st.none(), st.text(max_size=20))
field_values = st.one_of(noise, st.integers(), st.none(), st.lists(st.integers(), max_size=2))
small_png = base64.b64encode(SEED_IMAGES[0]).decode("ascii")


@st.composite
def profile_events(draw):
    planted = draw(st.lists(planted_values, min_size=1, max_size=3))
    fields = draw(st.dictionaries(st.sampled_from(["bio", "occupation", "city", "x", "interests"]) | st.text(max_size=5),
                                  field_values, max_size=4))
    extra = draw(st.fixed_dictionaries({}, optional={
        "k": st.one_of(st.integers(-5, 60), st.booleans(), st.floats(), st.text(max_size=3)),
        "user_id": st.one_of(st.text(max_size=10), st.integers(), st.just("u" * 200)),
        "store": st.one_of(st.booleans(), st.none(), st.integers()),
        "avatar": st.one_of(st.just(small_png), st.just("data:image/png;base64," + small_png), st.text(max_size=20),
                            st.just("s3://b/k"), st.integers()),
        "unknown": st.integers()}))
    body = targets.profile_body(draw(noise), planted, fields, extra, where=draw(st.integers(0, 3)))
    text = json.dumps(body, ensure_ascii=draw(st.booleans()))
    mangle = draw(st.integers(0, 9))
    if mangle == 0:
        text = text[:draw(st.integers(0, len(text)))]                       # truncated JSON
        planted = []                                                          # may cut a value in half
    elif mangle == 1:
        text = " " * draw(st.integers(0, 3)) + text + draw(st.sampled_from(["", "\n", "x", "}"]))
    event = targets.make_event(text, v2=draw(st.booleans()),
                               method=draw(st.sampled_from(targets.METHODS)) if draw(st.integers(0, 4)) == 0 else "POST",
                               path=draw(st.sampled_from(targets.PATHS)) if draw(st.integers(0, 4)) == 0 else "/profile",
                               content_type=draw(headers_values) if draw(st.integers(0, 4)) == 0 else "application/json",
                               b64=draw(st.booleans()), header_name=draw(st.sampled_from(["Content-Type", "content-type"])))
    return event, planted


@budget(250)
@given(profile_events())
def test_handler_never_5xx_never_leaks_planted_pii(harness, case):
    event, planted = case
    harness(event, planted)


@st.composite
def garbage_events(draw):
    """A checked-in event with 1-3 places replaced by arbitrary JSON (any type), or deleted."""
    return _mutate(draw, copy.deepcopy(draw(st.sampled_from(targets.seeds_from_events()))), max_depth=3)


@budget(250)
@given(st.one_of(garbage_events(), json_value))
def test_handler_survives_garbage_events(harness, event):
    harness(event)


def test_handler_oracle_is_not_vacuous(harness):
    """A planted phone number goes in; a 200 profile comes out, masked and counted."""
    p = plant.phone(12345678)
    out = harness(targets.make_event(json.dumps(targets.profile_body("我喜欢打篮球", [p])), v2=True), [p])
    assert out["status"] == 200 and out["body"]["pii_masked"] == {"PHONE": 1} and out["body"]["top_tag"]
    with pytest.raises(targets.OracleError, match="planted personal data"):
        targets.check_response({"statusCode": 200, "body": json.dumps({"x": p.secrets[-1]})}, "", [p])
    with pytest.raises(targets.OracleError, match="status 500"):
        targets.check_response({"statusCode": 500, "body": "{}", "headers": {}}, "")
