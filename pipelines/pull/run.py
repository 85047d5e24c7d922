"""Pull every configured source (or one), each on its own: one failing never stops the
others. Network errors are retried with backoff; anything else fails at once with a
message that says what is wrong."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.core.config import (
    Config,
    FhirSource,
    SftpSource,
    SqlSource,
)
from pipelines.core.home import Home
from pipelines.pull import fhir, sftp, sql
from pipelines.pull.base import Progress, PullContext, PullError
from pipelines.pull.ledger import PullLedger, SourceBusy, source_lock, started, write_status

log = logging.getLogger(__name__)

MODULES = {"sftp": sftp, "sql": sql, "fhir": fhir}
BACKOFF_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0


@dataclass
class SourceResult:
    """What pulling one source did: its files, what it left for later, or its error."""

    name: str
    kind: str
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    # The error was a network one that outlasted the retries (worth a later retry).
    transient: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def pull_inbox(home: Home, config: Config) -> Path:
    """Where pulled files are delivered: the config's `pull.inbox` (a relative path is
    taken from the home), else <home>/inbox."""
    return home.root / config.pull.inbox if config.pull.inbox else home.root / "inbox"


def _context(home: Home, config: Config, name: str, ledger: PullLedger, say: Progress):
    return PullContext(name, home, pull_inbox(home, config), ledger, say)


def pull(
    home: Home, config: Config, only: str | None = None, say: Progress | None = None
) -> list[SourceResult]:
    """Pull each source (or only `only`), in config order; a result per source."""
    names = _names(config, only)
    return [pull_source(home, config, name, say) for name in names]


def _names(config: Config, only: str | None) -> list[str]:
    if only is None:
        return list(config.pull.sources)
    if only not in config.pull.sources:
        known = ", ".join(config.pull.sources) or "none configured"
        raise PullError(f"no pull source named {only!r} (known: {known})")
    return [only]


def pull_source(home: Home, config: Config, name: str, say: Progress | None = None) -> SourceResult:
    say = say or (lambda _m: None)
    src = config.pull.sources[name]
    result = SourceResult(name, src.kind)
    begun = started()
    ledger = PullLedger(home)
    try:
        with source_lock(home, name):
            ctx = _context(home, config, name, ledger, say)
            for line in ctx.recover():
                say(f"{name}: {line}")
            _with_retries(ctx, src, result)
    except SourceBusy as exc:
        result.error = str(exc)
    except Exception as exc:  # one broken source must not stop the others
        log.exception("pulling %s failed", name)
        result.error = f"{name}: unexpected {type(exc).__name__} (see the log)"
    finally:
        ledger.record_attempt(name, begun, result.ok, len(result.files), result.error)
        write_status(home, ledger)
        ledger.close()
    return result


def _with_retries(ctx: PullContext, src: SftpSource | SqlSource | FhirSource, result):
    module = MODULES[src.kind]
    for attempt in range(src.retries + 1):
        try:
            outcome = module.fetch(ctx, src)
        except PullError as exc:
            if exc.transient and attempt < src.retries:
                wait = min(BACKOFF_SECONDS * 2**attempt, BACKOFF_MAX_SECONDS)
                ctx.say(f"{exc}; trying again in {wait:.0f} s")
                time.sleep(wait)
                # Files committed before the break stay fetched; the next attempt skips them.
                continue
            result.error, result.transient = str(exc), exc.transient
            return
        result.files.extend(outcome.files)
        result.notes.extend(outcome.notes)
        return


def check(home: Home, config: Config, only: str | None = None) -> dict[str, list[str] | str]:
    """Per source: the lines of a good check, or the one message saying what is wrong."""
    report: dict[str, list[str] | str] = {}
    for name in _names(config, only):
        src = config.pull.sources[name]
        ledger = PullLedger(home)
        try:
            ctx = _context(home, config, name, ledger, lambda _m: None)
            report[name] = MODULES[src.kind].check(ctx, src)
        except PullError as exc:
            report[name] = str(exc)
        except Exception as exc:
            log.exception("checking %s failed", name)
            report[name] = f"{name}: unexpected {type(exc).__name__} (see the log)"
        finally:
            ledger.close()
    return report
