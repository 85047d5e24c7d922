"""Who may sign in, with which password hash, and the secrets the dashboard needs.

Users come from the config file's `access.users` and from `<home>/secrets/users.yaml`,
the file `clinicops demo` and `clinicops users` write (hashes only, mode 0600, outside
the repository); an entry in the home's file replaces the config's entry of that name, so
a password can be reset without rewriting a config kept in version control.

Secrets come from the environment. Sessions are kept server-side (`sessions`), so the
sign-in cookie holds a random id and needs no signing key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import bcrypt
import yaml

from dashboards.access.principal import Principal, Role
from pipelines.core.config import USERNAME, Config, User
from pipelines.core.home import Home
from pipelines.core.secrets import KEY_ENV as PSEUDONYM_KEY_ENV

COOKIE_NAME = "clinicops_session"  # holds the server-side session's id, nothing else
SMTP_HOST_ENV = "CLINICOPS_SMTP_HOST"
SMTP_PASSWORD_ENV = "CLINICOPS_SMTP_PASSWORD"
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


def delete_user(home: Home, username: str) -> bool:
    """Remove one user from the home's users file; False when it holds no such user."""
    path = users_path(home)
    stored = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
    if stored.pop(username, None) is None:
        return False
    _write_private(path, yaml.safe_dump(stored, sort_keys=True))
    return True


MIN_PASSWORD_CHARS = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 = "safely unguessable" against online guessing


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is refused (too short, common, or guessable), else None.

    zxcvbn (Dropbox's estimator) knows the common passwords of breach lists, names, words
    and keyboard patterns, and is told the username, the product and the practice's
    vocabulary, which make easy guesses here."""
    from zxcvbn import zxcvbn

    if len(password) < MIN_PASSWORD_CHARS:
        return f"the password is too short: use at least {MIN_PASSWORD_CHARS} characters"
    verdict = zxcvbn(password[:100], user_inputs=[username, "clinicops", "clinic", "practice"])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        advice = verdict["feedback"].get("warning") or "it is too easy to guess"
        return f"the password is too easy to guess ({advice.rstrip('.')}); use a longer phrase"
    return None


def username_problem(username: str) -> str | None:
    """Why a username is refused: it is shown in pages and the audit log, so it holds no
    markup, only lowercase letters, digits and . _ -"""
    if not USERNAME.fullmatch(username):
        return (
            "a username is 2 to 64 characters: lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter"
        )
    return None


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
    needed = [PSEUDONYM_KEY_ENV]
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
