"""Serving: a release loaded from the real S3 server, the profile path, refresh and refusals."""
import hashlib
import json
import shutil

import pytest

from coldstart.release import read_current
from coldstart.service import ProfileService
from coldstart.settings import ServingSettings
from coldstart.storage import open_store
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
    status, body = service(release_uri, tmp_path).health()
    assert status == 200 and body["ready"] is True and body["release"] == "v1"
    assert body["teacher"] == "tiny-test-teacher" and body["users"] == 300
    assert body["model_version"].startswith("v1/") and body["index_version"].startswith("v1/")


def test_profile_returns_ranked_scored_tags_and_neighbours(release_uri, tmp_path):
    svc = service(release_uri, tmp_path, min_confidence=0.0)
    status, body, _ = svc.handle("POST", "/profile", json.dumps({"text": "我喜欢打篮球", "k": 5}), "application/json")
    assert status == 200
    assert set(body) >= {"tags", "top_tag", "confidence", "fallback", "neighbors", "pii_masked", "cache",
                         "model_version", "index_version", "latency_ms"}
    scores = [t["score"] for t in body["tags"]]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    assert body["top_tag"] == body["tags"][0]["tag"] and body["fallback"] is False
    assert len(body["neighbors"]) == 5 and all(n["user_id"].startswith("u") for n in body["neighbors"])
    assert 0 <= body["confidence"] <= 1 and body["cache"] == "miss"


def test_personal_data_is_masked_counted_and_never_returned(release_uri, tmp_path):
    svc = service(release_uri, tmp_path)
    text = "产品经理，电话138-1234-5678，邮箱a.b@example.com，身份证110101199003071233"
    status, body, result = svc.handle("POST", "/profile", json.dumps({"text": text}), "application/json")
    assert status == 200
    assert body["pii_masked"] == {"PHONE": 1, "EMAIL": 1, "ID_CARD": 1}
    dumped = json.dumps(body, ensure_ascii=False)
    for secret in ("1234-5678", "example.com", "110101199003071233"):
        assert secret not in dumped and secret not in result.masked_text


def test_repeated_and_near_identical_inputs_hit_the_cache(release_uri, tmp_path):
    svc = service(release_uri, tmp_path)
    ask = lambda t: svc.handle("POST", "/profile", json.dumps({"text": t}), "application/json")[1]
    first = ask("最近在准备考研，想多学点编程知识，周末也喜欢打篮球")
    assert first["cache"] == "miss"
    assert ask("最近在准备考研，想多学点编程知识，周末也喜欢打篮球")["cache"] == "hit"
    near = ask("最近在准备考研，想多学点编程知识，周末也喜欢打篮球!")
    assert near["cache"] == "hit" and near["tags"] == first["tags"]


def test_empty_text_after_masking_falls_back_to_popular_tags(release_uri, tmp_path):
    svc = service(release_uri, tmp_path)
    status, body, _ = svc.handle("POST", "/profile", json.dumps({"text": "13812345678"}), "application/json")
    assert status == 200 and body["fallback"] is True and body["reason"] == "no_signal" and body["about_user"] is False
    assert body["pii_masked"] == {"PHONE": 1} and body["neighbors"] == []


def test_refresh_swaps_in_a_new_release(release_uri, tmp_path, tiny_pipeline):
    svc = service(release_uri, tmp_path, refresh_seconds=60, refresh_background=0)
    clock = frozen_clock(svc)
    publish(release_uri, tiny_pipeline, "v2")
    svc.manager.maybe_refresh()
    assert svc.manager.current.version == "v1"  # not yet: checked at most every 60 s
    clock[0] = 61.0
    svc.manager.maybe_refresh()
    assert svc.manager.current.version == "v2" and svc.manager.previous_version == "v1"
    assert svc.health()[1]["release"] == "v2"


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
    status, health = svc.health()
    assert status == 200 and health["release"] == "v1" and "refresh_error" in health
    assert svc.handle("POST", "/profile", '{"text": "打篮球"}', "application/json")[0] == 200
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
    status, body = svc.health()
    assert status == 503 and body["error"]["code"] == "not_ready"
    assert "no release published yet" in body["error"]["message"]
    status, body, _ = svc.handle("POST", "/profile", '{"text": "打篮球"}', "application/json")
    assert status == 503 and "no release published yet" in body["error"]["message"]


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
    assert svc.health()[0] == 503
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
    ("GET", None, None, 405, "method_not_allowed"),
]


@pytest.mark.parametrize("method,body,ctype,status,code", BAD_REQUESTS)
def test_bad_requests_get_a_4xx_that_names_the_problem(release_uri, tmp_path, method, body, ctype, status, code):
    svc = service(release_uri, tmp_path)
    got, payload, _ = svc.handle(method, "/profile", body, ctype)
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
    status, body, _ = svc.handle("POST", "/profile", '{"text": "打篮球"}', "application/json")
    assert status == 200 and body["index_version"].startswith("v1/")  # answered by the old release
    deadline = time.time() + 30
    while svc.manager.current.version != "v2" and time.time() < deadline:
        time.sleep(0.05)
    assert svc.manager.current.version == "v2"


def test_a_release_from_before_items_npz_loads_from_items_json(s3_bucket, s3_env, tiny_pipeline, tmp_path):
    """Releases published before build-index wrote items.npz carry only items.json: still served,
    with the same neighbours and tags as the compact table gives."""
    from coldstart.manifest import read_json, write_json_atomic

    old = tmp_path / "old-pipeline"
    shutil.copytree(tiny_pipeline / "idx", old / "idx")
    (old / "idx" / "items.npz").unlink()
    manifest = read_json(old / "idx" / "manifest.json")
    del manifest["files"]["items.npz"]
    write_json_atomic(old / "idx" / "manifest.json", manifest)
    (old / "model").symlink_to(tiny_pipeline / "model")
    uri = f"s3://{s3_bucket[1]}/old"
    publish(uri, old, "v1")
    publish(f"s3://{s3_bucket[1]}/new", tiny_pipeline, "v1")
    body = '{"text": "我喜欢看科幻电影和打篮球"}'
    answers = []
    for name in ("old", "new"):
        svc = service(f"s3://{s3_bucket[1]}/{name}", tmp_path / name)
        release = svc.manager.current
        assert release is not None and release.version == "v1"
        assert (release.root / "index" / "items.npz").exists() == (name == "new")
        status, payload, _ = svc.handle("POST", "/profile", body, "application/json")
        assert status == 200
        answers.append((payload["tags"], payload["neighbors"]))
    assert answers[0] == answers[1] and answers[0][1]
