"""Serving: a release loaded from the real S3 server, the profile path, refresh and refusals."""
import hashlib
import io
import json
import shutil

import pytest

from coldstart.api import answer_health, answer_profile  # noqa: E402
from coldstart.release import IndexManifest, describe_files
from coldstart.service import ProfileService
from coldstart.settings import ServingSettings
from infra.cli import main


def publish(uri, pipeline, version):
    assert main(["publish", "--to", uri, "--index", str(pipeline / "idx"), "--model", str(pipeline / "model"),
                 "--version", version]) == 0


@pytest.fixture
def release_uri(s3_bucket, s3_env, tiny_pipeline):
    uri = f"s3://{s3_bucket[1]}/cs"
    publish(uri, tiny_pipeline, "v1")
    return uri


def service(uri, tmp_path, **kw):
    return ProfileService(ServingSettings(release_uri=uri, cache_dir=str(tmp_path / "cache"), **kw))


def frozen_clock(svc):
    """Replace the refresh clock with a list the test advances; time 0 is the last check."""
    clock = [0.0]
    svc.manager.clock = lambda: clock[0]
    svc.manager.last_check = 0.0
    return clock


def test_health_reports_the_loaded_release(release_uri, tmp_path):
    status, body = answer_health(service(release_uri, tmp_path))
    assert status == 200 and body["ready"] is True and body["release"] == "v1"
    assert body["teacher"] == "tiny-test-teacher" and body["users"] == 300
    assert body["model_version"].startswith("v1/") and body["index_version"].startswith("v1/")


def test_profile_returns_ranked_scored_tags_and_no_neighbours_by_default(release_uri, tmp_path):
    svc = service(release_uri, tmp_path, min_confidence=0.0)
    status, body, _ = answer_profile(svc, json.dumps({"text": "我喜欢打篮球", "k": 5}), "application/json")
    assert status == 200
    assert set(body) >= {"tags", "top_tag", "confidence", "fallback", "pii_masked", "cache",
                         "model_version", "index_version", "latency_ms"}
    assert "neighbors" not in body  # other users are not the caller's business unless an operator says so
    scores = [t["score"] for t in body["tags"]]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    assert body["top_tag"] == body["tags"][0]["tag"] and body["fallback"] is False
    assert 0 <= body["confidence"] <= 1 and body["cache"] == "miss"


def test_neighbours_when_turned_on_are_opaque_handles(release_uri, tmp_path, small_users):
    """COLDSTART_EXPOSE_NEIGHBORS=1: neighbours appear as 16-hex handles, none of them a user id, and
    each is the keyed handle of one of the active users (the operator, holding the key, can map them)."""
    from coldstart.pseudonyms import Pseudonymizer
    from tests.conftest import TEST_KEY_FILE

    svc = service(release_uri, tmp_path, min_confidence=0.0)
    status, body, _ = answer_profile(svc, json.dumps({"text": "我喜欢打篮球", "k": 5}), "application/json",
                                     expose_neighbors=True)
    assert status == 200 and len(body["neighbors"]) == 5
    keys = Pseudonymizer.from_file(TEST_KEY_FILE)
    ids = [json.loads(line)["user_id"] for line in small_users.read_text(encoding="utf-8").splitlines()]
    handle_to_id = {keys.handle(u): u for u in ids}
    for n in body["neighbors"]:
        assert set(n) == {"handle", "similarity"} and len(n["handle"]) == 16
        assert n["handle"] not in ids and n["handle"] in handle_to_id


def test_personal_data_is_masked_counted_and_never_returned(release_uri, tmp_path):
    svc = service(release_uri, tmp_path)
    text = "产品经理，电话138-1234-5678，邮箱a.b@example.com，身份证110101199003071233"
    status, body, result = answer_profile(svc, json.dumps({"text": text}), "application/json")
    assert status == 200
    assert body["pii_masked"] == {"PHONE": 1, "EMAIL": 1, "ID_CARD": 1}
    dumped = json.dumps(body, ensure_ascii=False)
    for secret in ("1234-5678", "example.com", "110101199003071233"):
        assert secret not in dumped and secret not in result.masked_text


def test_repeated_and_near_identical_inputs_hit_the_cache(release_uri, tmp_path):
    svc = service(release_uri, tmp_path)
    ask = lambda t: answer_profile(svc, json.dumps({"text": t}), "application/json")[1]
    first = ask("最近在准备考研，想多学点编程知识，周末也喜欢打篮球")
    assert first["cache"] == "miss"
    assert ask("最近在准备考研，想多学点编程知识，周末也喜欢打篮球")["cache"] == "hit"
    near = ask("最近在准备考研，想多学点编程知识，周末也喜欢打篮球!")
    assert near["cache"] == "hit" and near["tags"] == first["tags"]


def test_empty_text_after_masking_falls_back_to_popular_tags(release_uri, tmp_path):
    svc = service(release_uri, tmp_path)
    status, body, _ = answer_profile(svc, json.dumps({"text": "13812345678"}), "application/json")
    assert status == 200 and body["fallback"] is True and body["reason"] == "no_signal" and body["about_user"] is False
    assert body["pii_masked"] == {"PHONE": 1} and "neighbors" not in body


def test_refresh_swaps_in_a_new_release(release_uri, tmp_path, tiny_pipeline):
    svc = service(release_uri, tmp_path, refresh_seconds=60, refresh_background=0)
    clock = frozen_clock(svc)
    publish(release_uri, tiny_pipeline, "v2")
    svc.manager.maybe_refresh()
    assert svc.manager.current.version == "v1"  # not yet: checked at most every 60 s
    clock[0] = 61.0
    svc.manager.maybe_refresh()
    assert svc.manager.current.version == "v2" and svc.manager.previous_version == "v1"
    assert answer_health(svc)[1]["release"] == "v2"


def test_corrupted_release_is_refused_and_the_old_one_keeps_serving(release_uri, s3_bucket, tmp_path, tiny_pipeline):
    server, bucket = s3_bucket
    svc = service(release_uri, tmp_path, refresh_seconds=1, refresh_background=0)
    clock = frozen_clock(svc)
    publish(release_uri, tiny_pipeline, "v2")
    key = "cs/releases/v2/index/index.ann"
    body = server.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    server.client().put_object(Bucket=bucket, Key=key, Body=b"\0" * len(body))  # same size, wrong bytes
    clock[0] = 5.0
    svc.manager.maybe_refresh()
    assert svc.manager.current.version == "v1"
    assert "index/index.ann: sha256 differs" in svc.manager.last_error
    status, health = answer_health(svc)
    assert status == 200 and health["release"] == "v1" and health["refresh_failed"] is True
    assert answer_profile(svc, '{"text": "打篮球"}', "application/json")[0] == 200
    assert not list((tmp_path / "cache").glob(".v2*"))  # no partial download left behind


def test_half_uploaded_release_is_refused(release_uri, s3_bucket, tmp_path):
    server, bucket = s3_bucket
    svc = service(release_uri, tmp_path, refresh_seconds=1, refresh_background=0)
    clock = frozen_clock(svc)
    pointer = json.loads(server.client().get_object(Bucket=bucket, Key="cs/current.json")["Body"].read())
    pointer["version"] = "v9"  # points at a release whose objects never arrived
    server.client().put_object(Bucket=bucket, Key="cs/current.json", Body=json.dumps(pointer).encode())
    clock[0] = 5.0
    svc.manager.maybe_refresh()
    assert svc.manager.current.version == "v1" and "releases/v9/release.json: not found" in svc.manager.last_error


def test_no_release_gives_503_with_a_clear_message(s3_bucket, s3_env, tmp_path):
    svc = service(f"s3://{s3_bucket[1]}/empty", tmp_path)
    status, body = answer_health(svc)
    assert status == 503 and body["error"]["code"] == "not_ready"
    assert "no release is loaded" in body["error"]["message"]
    assert "no release published yet" in svc.not_ready_reason()  # the detail is the operator's (log)
    status, body, _ = answer_profile(svc, '{"text": "打篮球"}', "application/json")
    assert status == 503 and body["error"]["code"] == "not_ready" and "s3://" not in body["error"]["message"]


def test_student_and_index_of_different_teachers_are_refused(tiny_pipeline, tmp_path):
    """A release whose model manifest names another teacher than its index is never served."""
    from dataclasses import asdict

    from coldstart.manifest import describe_files
    from coldstart.release import ReleaseManifest

    root = tmp_path / "store"
    rel = root / "releases" / "bad"
    shutil.copytree(tiny_pipeline / "idx", rel / "index")
    shutil.copytree(tiny_pipeline / "model", rel / "model")
    mm = json.loads((rel / "model" / "model_manifest.json").read_text())
    mm["teacher"]["weights_sha256"] = "f" * 64
    (rel / "model" / "model_manifest.json").write_text(json.dumps(mm))
    names = [p.relative_to(rel).as_posix() for p in rel.rglob("*") if p.is_file()]
    index_manifest = json.loads((rel / "index" / "manifest.json").read_text())
    from coldstart.manifest import TeacherInfo

    manifest = ReleaseManifest(version="bad", teacher=TeacherInfo(**index_manifest["teacher"]),
                               files=describe_files(rel, names), components={})
    (rel / "release.json").write_bytes(manifest.to_bytes())
    (root / "current.json").write_text(json.dumps({"version": "bad", "published_at": "t",
                                                   "release_sha256": hashlib.sha256(manifest.to_bytes()).hexdigest()}))
    svc = service(str(root), tmp_path)
    assert svc.manager.current is None
    assert "refusing a mismatched pair" in svc.manager.last_error
    assert answer_health(svc)[0] == 503
    del asdict


BAD_REQUESTS = [
    ("POST", "not json", "application/json", 400, "invalid_json"),
    ("POST", '{"text": "x"}', "text/plain", 415, "unsupported_media_type"),
    ("POST", '{"k": 3}', "application/json", 400, "missing_text"),
    ("POST", '{"text": 5}', "application/json", 400, "invalid_text"),
    ("POST", json.dumps({"text": "长" * 2001}), "application/json", 413, "text_too_long"),
    ("POST", '{"text": "x", "k": 0}', "application/json", 400, "invalid_k"),
    ("POST", '{"text": "x", "k": true}', "application/json", 400, "invalid_k"),
    ("POST", '{"text": "x", "colour": 1}', "application/json", 400, "unknown_field"),
    ("POST", "[" * 100000 + "]" * 100000, "application/json", 400, "invalid_json"),
    ("POST", b"\xff\xfe\x00garbage", "application/json", 400, "invalid_encoding"),
    ("POST", b"x" * (6 * 1024 * 1024 + 1), "application/json", 413, "body_too_large"),
    ("POST", '["text"]', "application/json", 400, "invalid_request"),
    ("POST", '{"text": "x", "fields": {"bio": 3}}', "application/json", 400, "invalid_fields"),
    ("POST", '{"text": "x", "store": true}', "application/json", 400, "missing_user_id"),
    ("POST", '{"text": "x", "user_id": "u1", "store": true}', "application/json", 401, "unauthenticated"),
]


@pytest.mark.parametrize("method,body,ctype,status,code", BAD_REQUESTS)
def test_bad_requests_get_a_4xx_that_names_the_problem(release_uri, tmp_path, method, body, ctype, status, code):
    svc = service(release_uri, tmp_path)
    got, payload, _ = answer_profile(svc, body, ctype)
    assert (got, payload["error"]["code"]) == (status, code)
    assert payload["error"]["message"]
    if isinstance(body, str) and "长" not in body:
        assert body[:20] not in payload["error"]["message"] or len(body) < 3


def test_a_due_refresh_runs_in_the_background_and_the_request_does_not_wait(release_uri, tmp_path, tiny_pipeline):
    import time

    svc = service(release_uri, tmp_path, refresh_seconds=60)
    clock = frozen_clock(svc)
    publish(release_uri, tiny_pipeline, "v2")
    clock[0] = 61.0
    status, body, _ = answer_profile(svc, '{"text": "打篮球"}', "application/json")
    assert status == 200 and body["index_version"].startswith("v1/")  # answered by the old release
    deadline = time.time() + 30
    while svc.manager.current.version != "v2" and time.time() < deadline:
        time.sleep(0.05)
    assert svc.manager.current.version == "v2"


def test_a_release_from_before_pseudonymous_items_is_refused(tiny_pipeline, tmp_path, capsys):
    """Releases published before items carried handles named every neighbour by raw user id (items.json,
    items.npz format 1). Serving one would hand other users' ids to callers: publish refuses to make one,
    and a loader that meets one (published earlier) refuses it (503), serving nothing rather than a
    leaking table."""
    import numpy as np

    from coldstart.items import ITEMS_NPZ
    from tests.test_release_safety import forge

    old = tmp_path / "old-pipeline"
    shutil.copytree(tiny_pipeline / "idx", old / "idx")
    buf = io.BytesIO()  # the format-1 table: user ids in clear
    np.savez(buf, format=np.array([1]), user_ids=np.frombuffer(b"13812345678\nalice@example.com", dtype=np.uint8),
             tag_names=np.array('["体育"]'), tag_counts=np.array([2]), tag_offsets=np.array([0, 1, 2]),
             tag_ids=np.array([0, 0], dtype=np.uint16))
    (old / "idx" / ITEMS_NPZ).write_bytes(buf.getvalue())
    manifest = IndexManifest.load(old / "idx", verify=False)
    manifest.files = describe_files(old / "idx", manifest.files)
    manifest.save(old / "idx")
    store = tmp_path / "store"
    assert main(["publish", "--to", str(store), "--index", str(old / "idx"), "--model", str(tiny_pipeline / "model"),
                 "--version", "v0"]) == 1
    assert "raw user ids" in capsys.readouterr().err and not (store / "current.json").exists()

    publish(str(store), tiny_pipeline, "v1")  # a good release, then one forged with the old table
    forge(store, "v1", "v2", {"index/items.npz": buf.getvalue()})
    (store / "current.json").write_bytes(json.dumps({**json.loads((store / "current.json").read_text()),
                                                     "previous": None}).encode())
    svc = service(str(store), tmp_path / "old")
    assert svc.manager.current is None and "raw user ids" in (svc.manager.last_error or "")
    status, payload, _ = answer_profile(svc, '{"text": "我喜欢打篮球"}', "application/json")
    assert status == 503 and "13812345678" not in json.dumps(payload)
