"""The pseudonym key on the batch side: every job that names users loads it the same way.

``--pseudonym-key-file``, else ``COLDSTART_PSEUDONYM_KEY`` (the key text), else
``COLDSTART_PSEUDONYM_SECRET`` (an AWS Secrets Manager secret, or ``ssm:/name`` for an SSM SecureString:
what the GPU batch jobs use, infra/batch.yaml, read with the job role), else
``COLDSTART_PSEUDONYM_KEY_FILE``. ``make demo`` creates a throwaway key file in build/demo/;
``python -m infra new-key --out FILE`` writes a new random key (0600).
See coldstart.pseudonyms for what the key protects and how to rotate it.
"""
from __future__ import annotations

import argparse
import os

from coldstart.errors import ConfigError
from coldstart.pseudonyms import KEY_ENV, KEY_FILE_ENV, Pseudonymizer


def add_key_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pseudonym-key-file", default=None, metavar="FILE",
                   help=f"keys for user pseudonyms, current first (default: ${KEY_FILE_ENV}); "
                        "create one with `python -m infra new-key --out FILE`")


SECRET_ENV = "COLDSTART_PSEUDONYM_SECRET"


def load_keys(args: argparse.Namespace) -> Pseudonymizer:
    """The first of: --pseudonym-key-file, $COLDSTART_PSEUDONYM_KEY, $COLDSTART_PSEUDONYM_SECRET,
    $COLDSTART_PSEUDONYM_KEY_FILE."""
    path = getattr(args, "pseudonym_key_file", None)
    if path:
        return Pseudonymizer.from_file(path)
    if not os.environ.get(KEY_ENV) and os.environ.get(SECRET_ENV):
        return Pseudonymizer.from_text(read_secret(os.environ[SECRET_ENV]))
    keys = Pseudonymizer.from_env()
    if keys is None:
        raise ConfigError(f"no pseudonym key: pass --pseudonym-key-file, or set {KEY_ENV} (the key), {SECRET_ENV} "
                          f"(a Secrets Manager secret) or {KEY_FILE_ENV} (create one with "
                          "`python -m infra new-key --out FILE`)")
    return keys


def read_secret(name: str) -> str:
    """A Secrets Manager secret's string (ARN or name), or an SSM SecureString (``ssm:/name``), with
    bounded timeouts and retries."""
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    config = Config(connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 3, "mode": "standard"})
    session = botocore.session.Session()
    try:
        if name.startswith("ssm:"):
            client = session.create_client("ssm", config=config)
            return client.get_parameter(Name=name[len("ssm:"):], WithDecryption=True)["Parameter"]["Value"]
        client = session.create_client("secretsmanager", config=config)
        return client.get_secret_value(SecretId=name)["SecretString"]
    except (BotoCoreError, ClientError) as exc:
        raise ConfigError(f"the pseudonym secret could not be read ({type(exc).__name__}); check "
                          f"{SECRET_ENV} and the job role's secretsmanager:GetSecretValue") from None
