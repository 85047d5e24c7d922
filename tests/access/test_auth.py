"""Users, hashes, demo users and the secrets the dashboard refuses to start without."""

from __future__ import annotations

import bcrypt
import pytest
import yaml

from dashboards.access import Role, auth
from pipelines.core.config import Access, Config, User
from pipelines.core.home import Home

GOOD_ENV = {"CLINICOPS_PSEUDONYM_KEY": "p" * 20}


def test_missing_secrets_are_named():
    # Sessions are server-side: the cookie holds a random id and needs no signing key.
    assert auth.missing_secrets({}) == ["CLINICOPS_PSEUDONYM_KEY"]
    assert auth.missing_secrets(GOOD_ENV) == []
    with_mail = {**GOOD_ENV, "CLINICOPS_SMTP_HOST": "mail.example.org"}
    assert auth.missing_secrets(with_mail) == ["CLINICOPS_SMTP_PASSWORD"]
    with pytest.raises(auth.SecretsMissing, match="CLINICOPS_SMTP_PASSWORD because"):
        auth.require_secrets(with_mail)
    auth.require_secrets(GOOD_ENV)


def test_demo_users_one_per_role_passwords_once(tmp_path):
    home = Home(tmp_path)
    passwords = auth.seed_demo_users(home, provider_id="PRV0003", location_id="L02")
    assert sorted(passwords) == sorted(auth.DEMO_ROLES)
    assert auth.seed_demo_users(home, provider_id="PRV0003", location_id="L02") is None
    users = auth.load_users(Config(), home)
    for name, password in passwords.items():
        assert bcrypt.checkpw(password.encode(), users[name].password_hash.encode())
        assert password not in auth.users_path(home).read_text()
    assert users["physician"].provider_id == "PRV0003"
    assert users["location_manager"].location_ids == ["L02"]
    assert auth.users_path(home).stat().st_mode & 0o077 == 0


def test_home_users_replace_config_users_of_the_same_name(tmp_path):
    home = Home(tmp_path)
    old = auth.hash_password("old", rounds=4)
    config = Config(access=Access(users={"ann": User(role="manager", password_hash=old)}))
    auth.save_user(home, "ann", User(role=None, password_hash=auth.hash_password("new", 4)))
    ann = auth.load_users(config, home)["ann"]
    assert ann.role is None
    assert auth.principal_of("ann", ann).role is None
    assert yaml.safe_load(auth.users_path(home).read_text())["ann"]["role"] is None


def test_principal_carries_the_binding():
    user = User(role="physician", provider_id="PRV0002", password_hash=auth.hash_password("x", 4))
    principal = auth.principal_of("dr", user)
    assert (principal.role, principal.provider_id) == (Role.PHYSICIAN, "PRV0002")
