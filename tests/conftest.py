"""Shared test setup: import paths and a real local S3 server (SeaweedFS, local/s3.py).

Fixtures:
  s3_server  (session)  LocalS3Server on 127.0.0.1, data in a pytest tmp dir
  s3_bucket  (function) (server, bucket_name): a fresh, uniquely named bucket, deleted afterwards
  s3_env     (function) the server's AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID /
                        AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION set for the test
"""

import json
import zlib  # noqa: F401  must precede paddle, see infra/__init__.py

import os
import re
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars are for people, not for captured test output
for _p in (ROOT, ROOT / "layer"):  # `import infra`, `import coldstart`
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

# User ids become keyed pseudonyms (coldstart.pseudonyms) in every batch job: one throwaway key for
# the whole run, unless the caller brought one.
if not os.environ.get("COLDSTART_PSEUDONYM_KEY_FILE"):
    import tempfile

    _KEY_DIR = tempfile.mkdtemp(prefix="coldstart-test-key-")
    _KEY_FILE = os.path.join(_KEY_DIR, "pseudonym.key")
    with open(_KEY_FILE, "w", encoding="ascii") as _fh:
        _fh.write("5f" * 32 + "\n")
    os.environ["COLDSTART_PSEUDONYM_KEY_FILE"] = _KEY_FILE
TEST_KEY_FILE = os.environ["COLDSTART_PSEUDONYM_KEY_FILE"]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    from local.s3 import LocalS3Server  # lazily: boto3 only for tests that use S3

    server = LocalS3Server(tmp_path_factory.mktemp("s3"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _bucket_name(test_name: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:40].strip("-") or "t"
    return f"{stem}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def s3_bucket(s3_server, request):
    name = s3_server.create_bucket(_bucket_name(request.node.name))
    yield s3_server, name
    if s3_server.running:  # a test may have stopped the server; the bucket goes with it then
        try:
            s3_server.client().delete_bucket(Bucket=name)  # weed mini deletes non-empty buckets
        except Exception:
            pass


# Variables that would override the ones s3_env sets (boto3 prefers AWS_ENDPOINT_URL_S3 over
# AWS_ENDPOINT_URL, AWS_REGION over AWS_DEFAULT_REGION; a session token would be sent along).
_OVERRIDING_ENV = (
    "AWS_ENDPOINT_URL_S3",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_REGION",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
)


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    for var in _OVERRIDING_ENV:
        monkeypatch.delenv(var, raising=False)
    env = s3_server.env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


DATA = ROOT / "data"

# Headless Debian Chromium through Playwright, one per session: a second sync_playwright() while the first
# runs fails ("Sync API inside the asyncio loop"), so the fixture lives here and test modules do not import it.
from tests.browser import chromium  # noqa: E402,F401


@pytest.fixture(scope="session")
def users_file():
    """The checked-in demo population (3,600 users)."""
    return DATA / "users.jsonl"


@pytest.fixture(scope="session")
def small_users(tmp_path_factory):
    """The first 300 demo users who state an interest: enough for several chunks, fast to embed.
    (A tiny random teacher puts every text near the same users; with the population's 11% of
    no-interest users among them, every profile would fall back as no_signal.)"""
    path = tmp_path_factory.mktemp("users") / "users.jsonl"
    lines = [line for line in (DATA / "users.jsonl").read_text(encoding="utf-8").splitlines()
             if json.loads(line)["tags"]][:300]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_teacher(tmp_path_factory):
    """A 1-layer, 32-wide ErnieModel with a character vocabulary of the demo data."""
    from tests.tiny_models import make_tiny_teacher

    texts = (DATA / "users.jsonl").read_text(encoding="utf-8").splitlines()
    return make_tiny_teacher(tmp_path_factory.mktemp("tiny-teacher"), texts)


# Tiny random teachers put users in near-ties, so neighbour sets flip under any noise; the gates
# themselves are exercised on the demo model (make demo) and by the refusal test.
LENIENT_GATES = ["--min-student-recall", "0", "--min-top-tag-agreement", "0", "--min-int8-overlap", "0"]
TINY_STUDENT = ["--hidden-size", "32", "--layers", "1", "--heads", "2", "--intermediate-size", "64",
                "--max-seq-len", "32", "--batch-size", "32"]


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory, small_users, tiny_teacher):
    """emb/, idx/, student/ and model/ (ONNX only) from the tiny teacher on 300 demo users."""
    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny-pipeline"), small_users, tiny_teacher)


def build_tiny_pipeline(root, users, teacher):
    """embed → build-index → distill → export (ONNX only) into ``root``: the fixture above, and the
    fuzz suite's release (tests/fuzz/release_builder.py)."""
    from infra.cli import main

    assert main(["embed", "--input", str(users), "--out", str(root / "emb"), "--teacher", str(teacher),
                 "--chunk-size", "128", "--max-seq-len", "32"]) == 0
    assert main(["build-index", "--embeddings", str(root / "emb"), "--out", str(root / "idx"),
                 "--min-recall", "0.9", "--queries", "100"]) == 0
    assert main(["distill", "--embeddings", str(root / "emb"), "--input", str(users),
                 "--teacher", str(teacher), "--out", str(root / "student"), "--epochs", "6",
                 "--init", "teacher", "--augment", "0", *TINY_STUDENT]) == 0
    assert main(["export", "--student", str(root / "student"), "--index", str(root / "idx"),
                 "--teacher", str(teacher), "--heldout", str(DATA / "heldout.jsonl"),
                 "--out", str(root / "model"), "--no-lite", *LENIENT_GATES]) == 0
    return root
