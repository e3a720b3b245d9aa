"""Issue 12's leak, end to end: users whose ids are a phone number and an e-mail address sign up
with "store": true, the next rebuild embeds their stored profiles, and the new release serves other
callers. Their ids (and the digits of the phone number) appear in no release file, no response, no
log line and no metric; the stored objects hold keyed pseudonyms only."""
from __future__ import annotations

import importlib
import json
import sys

import pytest

from infra.cli import main
from tests.conftest import ROOT
from tests.test_handler import FakeContext
from tests.test_profile_updates import _rest_event

PHONE_ID = "13912345678"
EMAIL_ID = "wang.fang@example.com"
SECRETS = (PHONE_ID, "912345678", EMAIL_ID, "wang.fang", "example.com")


def _every_byte(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _leaks(blob: bytes):
    found = []
    for s in SECRETS:
        for encoding in ("utf-8", "utf-16-le", "utf-32-le"):  # numpy stores str columns as UTF-32
            if s.encode(encoding) in blob:
                found.append((s, encoding))
    return found


@pytest.fixture
def app(tiny_pipeline, tmp_path, monkeypatch):
    store = tmp_path / "store"
    assert main(["publish", "--to", str(store), "--index", str(tiny_pipeline / "idx"),
                 "--model", str(tiny_pipeline / "model"), "--version", "v1"]) == 0
    monkeypatch.setenv("COLDSTART_RELEASE_URI", str(store))
    monkeypatch.setenv("COLDSTART_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLDSTART_PROFILE_STORE_URI", str(store / "profiles"))
    monkeypatch.setenv("COLDSTART_MIN_CONFIDENCE", "0")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ColdstartTest")
    monkeypatch.syspath_prepend(str(ROOT / "function"))
    sys.modules.pop("app", None)
    module = importlib.import_module("app")
    yield module, store
    sys.modules.pop("app", None)


def test_stored_phone_and_email_ids_never_leave_the_batch_side(app, small_users, tiny_teacher, tiny_pipeline,
                                                                tmp_path, monkeypatch, capsys):
    app, store = app
    for user_id, text in ((PHONE_ID, "我平时喜欢打篮球和踢足球，周末看NBA"), (EMAIL_ID, "喜欢打篮球，也常看CBA比赛")):
        response = app.handler(_rest_event({"user_id": user_id, "text": text, "store": True}, subject=user_id),
                               FakeContext())
        assert response["statusCode"] == 200 and json.loads(response["body"])["stored"] is True

    # the stored objects: keyed names and bodies
    assert not _leaks(b"".join(_every_byte(store / "profiles").values()) + "".join(_every_byte(store / "profiles")).encode())

    # the tiny random test teacher's votes are often withheld (fallbacks are never fed back to the index):
    # mark both stored records as the confident 体育 profiles a trained teacher gives them, through the
    # store's own keyed API, so the rebuild takes them as it would in production
    from coldstart.profile_store import ProfileStore
    from coldstart.pseudonyms import Pseudonymizer
    from coldstart.storage import open_store
    from tests.conftest import TEST_KEY_FILE

    profiles = ProfileStore(open_store(str(store / "profiles")), Pseudonymizer.from_file(TEST_KEY_FILE))
    for user_id in (PHONE_ID, EMAIL_ID):
        record = profiles.get(user_id)
        record.fallback, record.confidence, record.version = False, 0.9, 1
        record.tags, record.top_tag = [{"tag": "体育", "score": 1.0}], "体育"
        assert profiles.put_if_newer(record, user_id) is True

    # the next rebuild picks them up: embed --profiles, build-index, publish v2
    work = tmp_path / "work"
    assert main(["embed", "--input", str(small_users), "--out", str(work / "emb"), "--teacher", str(tiny_teacher),
                 "--chunk-size", "128", "--max-seq-len", "32", "--profiles", str(store / "profiles"),
                 "--profile-min-confidence", "0", "--profile-min-score", "0"]) == 0
    out = capsys.readouterr().out
    assert "profiles_used=2" in out, [line for line in out.splitlines() if line.startswith("embed:")]
    assert main(["build-index", "--embeddings", str(work / "emb"), "--out", str(work / "idx"),
                 "--min-recall", "0.9", "--queries", "100"]) == 0
    # the student of the tiny pipeline lives in the same teacher's space: it serves the new index
    assert main(["publish", "--to", str(store), "--index", str(work / "idx"), "--model",
                 str(tiny_pipeline / "model"), "--version", "v2"]) == 0

    # nothing in the work area after embed, and nothing in the release, names them
    assert not _leaks(b"".join(_every_byte(work).values()))
    release_files = _every_byte(store / "releases" / "v2")
    assert "index/items.npz" in release_files and "index/items.json" not in release_files
    for name, blob in release_files.items():
        assert not _leaks(blob), name

    # other callers, with many neighbours and neighbours turned on, see handles only
    monkeypatch.setenv("COLDSTART_EXPOSE_NEIGHBORS", "1")
    sys.modules.pop("app", None)
    served = importlib.import_module("app")
    assert served.SERVICE.current_release().version == "v2"
    capsys.readouterr()
    for text in ("我平时喜欢打篮球和踢足球，周末看NBA", "喜欢打篮球，也常看CBA比赛"):
        response = served.handler(_rest_event({"text": text, "k": 50}), FakeContext())
        body = json.loads(response["body"])
        assert response["statusCode"] == 200 and len(body["neighbors"]) >= 10  # Annoy may return fewer than k
        assert not _leaks(response["body"].encode("utf-8"))
    out = capsys.readouterr()
    assert not _leaks((out.out + out.err).encode("utf-8"))  # logs and EMF metrics
