"""`infra embed`: teacher vectors in chunks; sharding, resume, and bad input."""
import json

import numpy as np
import pytest

from coldstart.pseudonyms import Pseudonymizer
from infra.cli import main
from tests.conftest import TEST_KEY_FILE

KEYS = Pseudonymizer.from_file(TEST_KEY_FILE)


def embed(users, out, teacher, *extra):
    return main(["embed", "--input", str(users), "--out", str(out), "--teacher", str(teacher),
                 "--chunk-size", "64", "--batch-size", "32", "--max-seq-len", "32", *extra])


def load(out):
    from coldstart.storage import open_store
    from infra.embeddings import load_all

    return load_all(open_store(str(out)))


def test_embed_writes_normalised_vectors_in_input_order(small_users, tiny_teacher, tmp_path):
    assert embed(small_users, tmp_path / "e", tiny_teacher) == 0
    spec, vectors, user_keys, tags = load(tmp_path / "e")
    rows = [json.loads(line) for line in small_users.read_text(encoding="utf-8").splitlines()]
    assert spec.count == 300 and spec.n_chunks == 5 and spec.teacher.id == "tiny-test-teacher"
    assert vectors.shape == (300, 32) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # rows are named by keyed pseudonyms from here on: no raw id in the work area
    assert user_keys == [KEYS.user_key(r["user_id"]) for r in rows] and spec.pseudonym_key_id == KEYS.key_id
    chunks = b"".join(p.read_bytes() for p in (tmp_path / "e" / "chunks").iterdir())
    assert not any(r["user_id"].encode("utf-32-le") in chunks for r in rows)  # numpy stores str as UTF-32
    assert tags == [r["tags"] for r in rows]


def test_embed_matches_teacher_cls_of_masked_text(small_users, tiny_teacher, tmp_path):
    from coldstart.preprocess import prepare_text
    from infra.teacher import load_teacher

    embed(small_users, tmp_path / "e", tiny_teacher)
    _, vectors, _, _ = load(tmp_path / "e")
    first = json.loads(small_users.read_text(encoding="utf-8").splitlines()[0])
    teacher = load_teacher(str(tiny_teacher), max_seq_len=32, device="cpu")
    want = teacher.encode([prepare_text(first["text"])[0]])[0]
    np.testing.assert_allclose(vectors[0], want, atol=1e-5)


def test_shards_together_equal_one_full_run(small_users, tiny_teacher, tmp_path):
    embed(small_users, tmp_path / "full", tiny_teacher)
    assert embed(small_users, tmp_path / "sharded", tiny_teacher, "--shard", "0/2") == 0
    with pytest.raises(Exception, match="chunks missing"):
        load(tmp_path / "sharded")  # shard 1 has not run yet
    assert embed(small_users, tmp_path / "sharded", tiny_teacher, "--shard", "1/2") == 0
    np.testing.assert_allclose(load(tmp_path / "sharded")[1], load(tmp_path / "full")[1], atol=1e-6)


def test_shard_is_read_from_aws_batch_array_env(small_users, tiny_teacher, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AWS_BATCH_JOB_ARRAY_INDEX", "1")
    monkeypatch.setenv("AWS_BATCH_JOB_ARRAY_SIZE", "3")
    embed(small_users, tmp_path / "e", tiny_teacher)
    assert "shard=1/3" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "e" / "chunks").iterdir()) == ["chunk-00001.npz", "chunk-00004.npz"]


def test_rerun_skips_finished_chunks_and_redoes_missing_ones(small_users, tiny_teacher, tmp_path, capsys):
    out = tmp_path / "e"
    embed(small_users, out, tiny_teacher)
    kept = out / "chunks" / "chunk-00000.npz"
    before = kept.stat().st_mtime_ns
    (out / "chunks" / "chunk-00003.npz").unlink()  # as if the run died before writing it
    capsys.readouterr()
    assert embed(small_users, out, tiny_teacher) == 0
    line = capsys.readouterr().out
    assert "chunks_done=1" in line and "chunks_skipped=4" in line
    assert kept.stat().st_mtime_ns == before
    assert load(out)[0].count == 300


def test_output_of_another_teacher_is_refused_without_force(small_users, tiny_teacher, tmp_path, capsys):
    from tests.tiny_models import make_tiny_teacher

    other = make_tiny_teacher(tmp_path / "other", ["其他"], seed=5, teacher_id="other")
    embed(small_users, tmp_path / "e", tiny_teacher)
    assert embed(small_users, tmp_path / "e", other) == 1
    assert "describes another run" in capsys.readouterr().err
    assert embed(small_users, tmp_path / "e", other, "--force") == 0
    assert load(tmp_path / "e")[0].teacher.id == "other"


def test_personal_data_is_masked_before_the_teacher_sees_it(tiny_teacher, tmp_path):
    users = tmp_path / "u.jsonl"
    with_phone = {"user_id": "a", "text": "喜欢篮球，电话13812345678", "tags": ["体育"]}
    other_phone = {"user_id": "b", "text": "喜欢篮球，电话13987654321", "tags": ["体育"]}
    users.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (with_phone, other_phone)), encoding="utf-8")
    embed(users, tmp_path / "e", tiny_teacher)
    vectors = load(tmp_path / "e")[1]
    np.testing.assert_array_equal(vectors[0], vectors[1])  # both became "喜欢篮球,电话[PHONE]"


BAD_LINES = [
    (b'{"user_id": "x", "text": "hi", "tags": []}\n{not json\n', 2, "not valid JSON"),
    (b'{"user_id": "x", "tags": ["a"]}\n', 1, "missing field(s): text"),
    (b'{"user_id": "x", "text": "   ", "tags": ["a"]}\n', 1, "text is empty"),
    (b'{"user_id": "x", "text": "a", "tags": []}\n{"user_id": "x", "text": "b", "tags": []}\n', 2,
     "duplicate user_id (first seen on line 1)"),
    (b'{"user_id": "x", "text": "\xff\xfe", "tags": []}\n', 1, "not UTF-8"),
    (b'[1, 2]\n', 1, "expected a JSON object"),
    (b'{"user_id": "x", "text": "a", "tags": "sport"}\n', 1, "tags must be a list"),
    (b'{"user_id": "x", "text": "a", "tags": [], "activity": -1}\n', 1, "activity must be a number >= 0"),
    (b'{"user_id": "x", "text": "a", "tags": [], "activity": "often"}\n', 1, "activity must be a number >= 0"),
]


@pytest.mark.parametrize("content,line,message", BAD_LINES)
def test_bad_input_names_file_and_line(content, line, message, tiny_teacher, tmp_path, capsys):
    users = tmp_path / "bad.jsonl"
    users.write_bytes(content)
    assert embed(users, tmp_path / "e", tiny_teacher) == 1
    err = capsys.readouterr().err
    assert f"bad.jsonl:{line}: " in err and message in err
    assert not (tmp_path / "e").exists()  # nothing written for a bad input


def test_skip_bad_counts_what_it_skips(small_users, tiny_teacher, tmp_path, capsys):
    users = tmp_path / "mixed.jsonl"
    users.write_bytes(small_users.read_bytes()[:2000].rsplit(b"\n", 1)[0] + b"\n{broken\n\xff\n")
    good = len(users.read_bytes().splitlines()) - 2
    assert embed(users, tmp_path / "e", tiny_teacher, "--skip-bad") == 0
    assert "skipped_bad=2" in capsys.readouterr().out
    assert load(tmp_path / "e")[0].count == good


def test_embed_reads_and_writes_s3(small_users, tiny_teacher, s3_bucket, s3_env):
    server, bucket = s3_bucket
    server.client().put_object(Bucket=bucket, Key="in/users.jsonl", Body=small_users.read_bytes())
    assert embed(f"s3://{bucket}/in/users.jsonl", f"s3://{bucket}/emb", tiny_teacher) == 0
    keys = [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket, Prefix="emb/")["Contents"]]
    assert "emb/embed.json" in keys and len([k for k in keys if k.startswith("emb/chunks/")]) == 5
    assert load(f"s3://{bucket}/emb")[1].shape == (300, 32)


# ------------------------------------------------ stored new-user profiles feed the rebuild

def _stored_profile(user_id, text, tags, confidence=0.8, fallback=False, version=0):
    from coldstart.profile_store import StoredProfile

    return StoredProfile(user_key=KEYS.user_key(user_id), text=text, fields={}, masked_text=text, embedding=None,
                         tags=[{"tag": t, "score": s} for t, s in tags], top_tag=tags[0][0] if tags else None,
                         confidence=confidence, fallback=fallback, model_version="v/x", index_version="v/y",
                         version=version)


def test_embed_adds_confident_stored_profiles_and_skips_the_rest(small_users, tiny_teacher, s3_bucket, s3_env,
                                                                 tmp_path, capsys):
    from coldstart.profile_store import ProfileStore
    from coldstart.storage import open_store

    server, bucket = s3_bucket
    profiles = ProfileStore(open_store(f"s3://{bucket}/cs/profiles"), KEYS)
    put = lambda user_id, *a, **kw: profiles.put_if_newer(_stored_profile(user_id, *a, **kw), user_id)
    rows = [json.loads(line) for line in small_users.read_text(encoding="utf-8").splitlines()]
    first_input_id, erased_input_id = rows[0]["user_id"], rows[1]["user_id"]
    put("new-1", "我平时喜欢踢足球。[PHONE]", [("体育", 0.9), ("旅行", 0.35), ("美食", 0.1)])
    put("new-2", "最近在准备考研", [("教育", 0.7)], version=3)
    put("new-weak", "随便看看", [("美食", 0.4)], confidence=0.2)
    put("new-fallback", "[PHONE]", [("美食", 0.5)], fallback=True)
    put(first_input_id, "老用户的新简介", [("科技", 0.9)])
    put("new-gone", "喜欢跑步", [("体育", 0.9)])
    profiles.delete("new-gone")         # asked to be forgotten: stored profile and tombstone
    profiles.delete(erased_input_id)    # an active user who asked to be forgotten: dropped from the input too
    server.client().put_object(Bucket=bucket, Key="cs/profiles/garbage.json", Body=b"{not json")

    assert embed(small_users, tmp_path / "e", tiny_teacher, "--profiles", f"s3://{bucket}/cs/profiles") == 0
    out = capsys.readouterr().out
    assert "profiles=6 profiles_used=2 profiles_in_input=1 profiles_weak=2 profiles_corrupt=1 erased=2" in out
    spec, vectors, user_keys, tags = load(tmp_path / "e")
    assert spec.count == 301 and vectors.shape == (301, 32)
    added = dict(zip(user_keys[299:], tags[299:]))
    assert added == {KEYS.user_key("new-1"): ["体育", "旅行"], KEYS.user_key("new-2"): ["教育"]}
    assert user_keys.count(KEYS.user_key(first_input_id)) == 1  # the active user's own row wins
    assert KEYS.user_key(erased_input_id) not in user_keys and KEYS.user_key("new-gone") not in user_keys

    # profiles stored while a run is under way do not change it: every shard and resume embeds the
    # selection frozen in the output (profiles.jsonl); a new run (new --out) picks them up
    put("new-3", "喜欢弹吉他", [("音乐", 0.8)])
    assert embed(small_users, tmp_path / "e", tiny_teacher, "--profiles", f"s3://{bucket}/cs/profiles") == 0
    out = capsys.readouterr().out
    assert "chunks_done=0 chunks_skipped=5" in out and "profiles_used=2 erased=2 profiles_snapshot=profiles.jsonl" in out
    assert embed(small_users, tmp_path / "e2", tiny_teacher, "--profiles", f"s3://{bucket}/cs/profiles") == 0
    assert sorted(load(tmp_path / "e2")[2][299:]) == sorted(KEYS.user_key(u) for u in ("new-1", "new-2", "new-3"))
    # the frozen selection holds masked text and keyed pseudonyms only
    frozen = (tmp_path / "e" / "profiles.jsonl").read_text(encoding="utf-8")
    assert "[PHONE]" in frozen and "老用户" not in frozen and "new-1" not in frozen


def test_shards_embed_the_same_frozen_profile_selection(small_users, tiny_teacher, tmp_path):
    from coldstart.profile_store import ProfileStore
    from coldstart.storage import LocalStore

    profiles = ProfileStore(LocalStore(tmp_path / "profiles"), KEYS)
    profiles.put_if_newer(_stored_profile("new-a", "喜欢爬山", [("旅行", 0.9)]), "new-a")
    args = ("--profiles", str(tmp_path / "profiles"))
    assert embed(small_users, tmp_path / "e", tiny_teacher, "--shard", "0/2", *args) == 0
    profiles.put_if_newer(_stored_profile("new-b", "喜欢做饭", [("美食", 0.9)]), "new-b")  # arrives between the shards
    assert embed(small_users, tmp_path / "e", tiny_teacher, "--shard", "1/2", *args) == 0
    spec, vectors, user_keys, _ = load(tmp_path / "e")
    assert spec.count == 301 and user_keys[-1] == KEYS.user_key("new-a") and KEYS.user_key("new-b") not in user_keys


def test_replace_other_run_redoes_another_runs_chunks_and_keeps_a_resume(small_users, tiny_teacher, tmp_path, capsys):
    from tests.tiny_models import make_tiny_teacher

    other = make_tiny_teacher(tmp_path / "other", ["其他"], seed=5, teacher_id="other")
    out = tmp_path / "e"
    embed(small_users, out, tiny_teacher)
    capsys.readouterr()
    assert embed(small_users, out, other, "--replace-other-run") == 0  # what the pipeline does with its work dir
    captured = capsys.readouterr()
    assert "described another run" in captured.err and "chunks_done=5" in captured.out
    assert load(out)[0].teacher.id == "other"
    kept = out / "chunks" / "chunk-00000.npz"
    before = kept.stat().st_mtime_ns
    assert embed(small_users, out, other, "--replace-other-run") == 0  # the same run: a resume, nothing redone
    assert "chunks_done=0" in capsys.readouterr().out and kept.stat().st_mtime_ns == before


def test_activity_is_kept_in_the_chunks_for_the_sample(tiny_teacher, tmp_path):
    """The optional activity rides along to the chunks (NaN where a row has none), for the
    serving index's stratified sample; chunks written without it read as unknown."""
    from coldstart.storage import open_store
    from infra.embeddings import encode_chunk, iter_chunks, read_spec

    users = tmp_path / "users.jsonl"
    rows = [{"user_id": "a", "text": "喜欢篮球", "tags": ["体育"], "activity": 12},
            {"user_id": "b", "text": "爱做饭", "tags": ["美食"]},
            {"user_id": "c", "text": "看电影", "tags": [], "activity": 0.5}]
    users.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert embed(users, tmp_path / "e", tiny_teacher) == 0
    store = open_store(str(tmp_path / "e"))
    (chunk,) = list(iter_chunks(store, read_spec(store)))
    np.testing.assert_array_equal(chunk.activity, np.array([12.0, np.nan, 0.5], dtype=np.float32))
    old = encode_chunk(chunk.vectors, chunk.user_keys, chunk.tags, chunk.texts)  # no activity given
    from infra.embeddings import read_chunk

    assert np.isnan(read_chunk(old).activity).all()


def test_each_shard_records_its_throughput_for_plan(small_users, tiny_teacher, tmp_path, capsys):
    from coldstart.storage import open_store
    from infra.sizing import read_measured_throughput

    assert embed(small_users, tmp_path / "e", tiny_teacher, "--shard", "1/2") == 0
    stats = json.loads((tmp_path / "e" / "stats" / "shard-00001-of-00002.json").read_text())
    assert stats["users"] == 128 and stats["device"] == "cpu" and stats["encode_seconds"] > 0  # chunks 1, 3 of 64
    assert "users_per_second=" in capsys.readouterr().out
    measured = read_measured_throughput(open_store(str(tmp_path / "e")))
    assert measured["users_per_second"] == pytest.approx(128 / stats["encode_seconds"])
