"""The handlers' shared runtime: the JWT secret comes from Secrets Manager, once."""

from __future__ import annotations

import json

import pytest

from handlers import runtime
from toons.aws.clients import use_session


@pytest.fixture
def secrets(session, monkeypatch):
    monkeypatch.delenv("TOONS_JWT_SECRET", raising=False)
    use_session(session)
    runtime.reset()
    yield session.client("secretsmanager")
    runtime.reset()
    use_session(None)


@pytest.mark.parametrize("stored", ['{"secret": "from-json"}', "plain-string-secret"])
def test_the_secret_is_read_from_secrets_manager_in_either_form(secrets, monkeypatch, stored):
    secrets.create_secret(Name="toons/jwt", SecretString=stored)
    monkeypatch.setenv("TOONS_JWT_SECRET_NAME", "toons/jwt")

    expected = json.loads(stored)["secret"] if stored.startswith("{") else stored
    assert runtime.jwt_secret() == expected


def test_the_secret_is_read_once_per_container(secrets, monkeypatch, session):
    secrets.create_secret(Name="toons/jwt-once", SecretString="first")
    monkeypatch.setenv("TOONS_JWT_SECRET_NAME", "toons/jwt-once")
    runtime.jwt_secret()

    secrets.put_secret_value(SecretId="toons/jwt-once", SecretString="rotated")

    assert runtime.jwt_secret() == "first"


def test_the_environment_overrides_secrets_manager(secrets, monkeypatch):
    monkeypatch.setenv("TOONS_JWT_SECRET", "from-the-environment")

    assert runtime.jwt_secret() == "from-the-environment"
