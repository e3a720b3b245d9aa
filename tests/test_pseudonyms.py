"""coldstart.pseudonyms: keyed pseudonyms for user ids (HMAC under the deployment's secret)."""
from __future__ import annotations

import argparse
import base64
import hashlib

import pytest

from coldstart.errors import ConfigError
from coldstart.pseudonyms import Pseudonymizer, handle_of, looks_like_user_key, new_key_text

KEY = bytes(range(32))


def test_user_keys_are_stable_keyed_and_name_their_key():
    keys = Pseudonymizer([KEY])
    a = keys.user_key("13812345678")
    assert a == Pseudonymizer([KEY]).user_key("13812345678") and looks_like_user_key(a)
    assert a.startswith("k" + hashlib.sha256(KEY).hexdigest()[:8] + ".")
    assert a != Pseudonymizer([bytes(reversed(KEY))]).user_key("13812345678")  # another secret, another key
    assert a != keys.user_key("13812345679") and "13812345678" not in a
    assert hashlib.sha256(b"13812345678").hexdigest()[:32] not in a  # not the enumerable unkeyed hash


def test_handles_derive_from_user_keys_without_the_secret_and_differ_from_them():
    keys = Pseudonymizer([KEY])
    user_key = keys.user_key("alice@example.com")
    assert keys.handle("alice@example.com") == handle_of(user_key)
    assert len(handle_of(user_key)) == 16 and handle_of(user_key) not in user_key


def test_lookups_try_the_current_key_first_then_the_previous_ones():
    old, new = bytes(32), KEY
    rotated = Pseudonymizer([new, old])
    assert rotated.lookup_keys("u1") == [Pseudonymizer([new]).user_key("u1"), Pseudonymizer([old]).user_key("u1")]
    assert rotated.user_key("u1") == Pseudonymizer([new]).user_key("u1") and rotated.key_id == Pseudonymizer([new]).key_id


def test_key_text_hex_or_base64_one_per_line_and_too_short_keys_refused(tmp_path):
    text = f"# current first\n{KEY.hex()}\n\n{base64.b64encode(bytes(40)).decode()}\n"
    keys = Pseudonymizer.from_text(text)
    assert keys.lookup_keys("x") == Pseudonymizer([KEY, bytes(40)]).lookup_keys("x")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        Pseudonymizer.from_text("00" * 16)
    with pytest.raises(ConfigError, match="neither hex nor base64"):
        Pseudonymizer.from_text("not a key!")
    with pytest.raises(ConfigError, match="new-key"):
        Pseudonymizer.from_file(tmp_path / "missing.key")
    assert len(Pseudonymizer.from_text(new_key_text())._keys[0]) == 32
    assert KEY.hex() not in repr(keys) and "key_id" in repr(keys)  # never the key material


def test_batch_jobs_find_the_key_in_flag_env_or_file(tmp_path, monkeypatch):
    from infra.keys import load_keys

    key_file = tmp_path / "k"
    key_file.write_text(KEY.hex() + "\n")
    for var in ("COLDSTART_PSEUDONYM_KEY", "COLDSTART_PSEUDONYM_SECRET", "COLDSTART_PSEUDONYM_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="no pseudonym key"):
        load_keys(argparse.Namespace(pseudonym_key_file=None))
    assert load_keys(argparse.Namespace(pseudonym_key_file=str(key_file))).key_id == Pseudonymizer([KEY]).key_id
    monkeypatch.setenv("COLDSTART_PSEUDONYM_KEY", bytes(32).hex())
    assert load_keys(argparse.Namespace(pseudonym_key_file=None)).key_id == Pseudonymizer([bytes(32)]).key_id


def test_new_key_job_writes_a_private_key_and_never_overwrites(tmp_path):
    from infra.cli import main

    out = tmp_path / "pseudonym.key"
    assert main(["new-key", "--out", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    first = out.read_text()
    assert len(Pseudonymizer.from_file(out)._keys[0]) == 32
    assert main(["new-key", "--out", str(out)]) == 1 and out.read_text() == first
