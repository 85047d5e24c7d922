"""The practice manager's commentary on a report period: written on the dashboard's
*Board deck* page, kept in the home (`<home>/reports/commentary/<period>.md`), recorded
in the audit log on every save, and printed on its own slide of that period's deck.

It is the one free text in the deck, so it is kept as typed (the board reads the
manager's words), limited in length so that it fits its slide, and written atomically
so that a deck built meanwhile reads the old text or the new one, never half of it.
"""

from __future__ import annotations

import os
from pathlib import Path

from dashboards.access import Principal, Role, audit

MAX_CHARS = 1200  # about what one slide holds at a readable size
EDITORS = frozenset({Role.ADMIN, Role.MANAGER})


def may_edit(principal: Principal | None) -> bool:
    return principal is not None and principal.role in EDITORS


def commentary_path(home: Path, period_code: str) -> Path:
    return Path(home) / "reports" / "commentary" / f"{period_code}.md"


def read_commentary(home: Path, period_code: str) -> str:
    path = commentary_path(home, period_code)
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""


def save_commentary(home: Path, period_code: str, text: str, principal: Principal) -> Path:
    """Store the text (empty: remove it) and audit the save with its length, not its words."""
    if not may_edit(principal):
        raise PermissionError(f"{principal.role or 'no role'}: commentary is the manager's")
    text = text.strip()
    if len(text) > MAX_CHARS:
        raise ValueError(f"the commentary has {len(text)} characters; a slide holds {MAX_CHARS}")
    path = commentary_path(home, period_code)
    path.parent.mkdir(parents=True, exist_ok=True)
    if text:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, path)
    else:
        path.unlink(missing_ok=True)
    audit.record(
        "commentary_saved", home=home, principal=principal, period=period_code, chars=len(text)
    )
    return path
