"""Who may sign in, with which password hash, and the secrets the dashboard needs.

Users come from the config file's `access.users` and from `<home>/secrets/users.yaml`,
the file `clinicops demo` and `clinicops users` write (hashes only, mode 0600, outside
the repository); an entry in the home's file replaces the config's entry of that name, so
a password can be reset without rewriting a config kept in version control.

Secrets come from the environment. Only the demo, which serves sample data, may fall back
to keys generated into `<home>/secrets/`, as landing does for its pseudonymisation key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import bcrypt
import yaml

from dashboards.access.principal import Principal, Role
from pipelines.config import Config, User
from pipelines.lake import Home
from pipelines.privacy import KEY_ENV as PSEUDONYM_KEY_ENV

COOKIE_NAME = "clinicops_session"  # the signed re-authentication cookie
COOKIE_KEY_ENV = "CLINICOPS_COOKIE_KEY"
SMTP_HOST_ENV = "CLINICOPS_SMTP_HOST"
SMTP_PASSWORD_ENV = "CLINICOPS_SMTP_PASSWORD"
DEMO_ENV = "CLINICOPS_DEMO"  # set by `clinicops demo` for the app it starts
MIN_COOKIE_KEY_CHARS = 32  # the cookie is an HS256 token: shorter keys are guessable
DEMO_ROLES = ("admin", "manager", "location_manager", "physician", "board")


class SecretsMissing(RuntimeError):
    """The dashboard may not start: the message names the missing variables."""


def users_path(home: Home) -> Path:
    return home.secrets / "users.yaml"


def load_users(config: Config, home: Home) -> dict[str, User]:
    users = dict(config.access.users)
    path = users_path(home)
    if path.exists():
        stored = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        users.update({name: User.model_validate(entry) for name, entry in stored.items()})
    return users


def save_user(home: Home, username: str, user: User) -> None:
    """Add or replace one user in the home's users file (atomically, owner-only)."""
    path = users_path(home)
    stored = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
    stored[username] = user.model_dump(exclude_defaults=True)
    stored[username].setdefault("role", user.role)
    _write_private(path, yaml.safe_dump(stored, sort_keys=True))


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    temporary.replace(path)


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def principal_of(username: str, user: User) -> Principal:
    return Principal(
        username=username,
        role=Role(user.role) if user.role else None,
        provider_id=user.provider_id,
        location_ids=frozenset(user.location_ids),
    )


# -- secrets -----------------------------------------------------------------------------


def missing_secrets(env: Mapping[str, str] = os.environ) -> list[str]:
    """The variables a real practice's dashboard needs and does not have."""
    needed = [COOKIE_KEY_ENV, PSEUDONYM_KEY_ENV]
    if env.get(SMTP_HOST_ENV):
        needed.append(SMTP_PASSWORD_ENV)
    return [name for name in needed if not env.get(name, "").strip()]


def require_secrets(env: Mapping[str, str] = os.environ) -> None:
    missing = missing_secrets(env)
    if missing:
        message = f"outside demo mode the dashboard needs {', '.join(missing)} in the environment"
        if SMTP_PASSWORD_ENV in missing:
            message += f" ({SMTP_PASSWORD_ENV} because {SMTP_HOST_ENV} is set)"
        raise SecretsMissing(
            message + ". Generate a key with `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`; `clinicops demo` serves the sample without them."
        )
    _checked_cookie_key(env[COOKIE_KEY_ENV].strip())


def _checked_cookie_key(key: str) -> str:
    if len(key) < MIN_COOKIE_KEY_CHARS:
        raise SecretsMissing(
            f"{COOKIE_KEY_ENV} is too short: use at least {MIN_COOKIE_KEY_CHARS} characters"
        )
    return key


def demo_cookie_key_path(home: Home) -> Path:
    return home.secrets / "cookie.key"


def ensure_demo_cookie_key(home: Home) -> None:
    """A local cookie key for the demo, created once, like the demo pseudonymisation key."""
    path = demo_cookie_key_path(home)
    if not path.exists():
        _write_private(path, secrets.token_hex(32))


def cookie_key(home: Home, env: Mapping[str, str] = os.environ) -> str:
    """The key that signs the sign-in cookie: the environment's, else the demo's."""
    key = env.get(COOKIE_KEY_ENV, "").strip()
    if key:
        return _checked_cookie_key(key)
    if env.get(DEMO_ENV) and demo_cookie_key_path(home).exists():
        return demo_cookie_key_path(home).read_text(encoding="utf-8").strip()
    raise SecretsMissing(f"{COOKIE_KEY_ENV} is not set; start the app with `clinicops dashboard`")


# -- demo users ---------------------------------------------------------------------------


def seed_demo_users(home: Home, provider_id: str, location_id: str) -> dict[str, str] | None:
    """One user per role, named for the role, with a random password each.

    Returns the passwords the first time, for the caller to print once; they are kept
    nowhere. Returns None when the home already has its demo users."""
    existing = users_path(home).exists() and set(DEMO_ROLES) <= set(
        yaml.safe_load(users_path(home).read_text(encoding="utf-8")) or {}
    )
    if existing:
        return None
    passwords = {}
    for role in DEMO_ROLES:
        password = secrets.token_urlsafe(12)
        binding = {
            "physician": {"provider_id": provider_id},
            "location_manager": {"location_ids": [location_id]},
        }.get(role, {})
        save_user(home, role, User(role=role, password_hash=hash_password(password), **binding))
        passwords[role] = password
    return passwords
