"""An X12 835 remittance advice (5010, 005010X221A1) as transactions.

The clearinghouse's electronic remittance advice says, per payment (BPR/TRN), what the
payer did with each claim (CLP) and each of its lines (SVC): what it paid, and why the
rest was not paid (CAS adjustment groups and reason codes). pyx12 reads the file and
validates it against the 835 map; this module only maps the loops it hands back to the
transactions contract (docs/contracts.md, "X12 835"):

- a payment or adjustment amount below zero (a reversal, CLP02 = 22) is a take-back: it
  raises A/R again and lands as a `refund` of the amount, so money is never negative;
- CAS groups CO, OA and PI are contractual adjustments, reason `GROUP-CARC` (`CO-45`);
- a denied claim (CLP02 = 4) or a line paid 0 with a CO/OA/PI reason other than 45 is
  one `denial` (amount 0) with its reason, and its CAS amounts move no A/R;
- group PR (deductible, coinsurance, copay) only moves responsibility to the patient:
  it is kept, with provider-level adjustments (PLB), in the remittance table, not as a
  transaction.

A transaction's id is built from the payment's trace (TRN03, TRN02), the claim's and
the line's position in it and the part of the line, so re-delivering an 835 (even with a
new envelope) gives the same ids and a corrected 835 of the same payment replaces them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl
import pyx12.errh_json
import pyx12.error_handler
import pyx12.errors
import pyx12.params
import pyx12.x12context

from pipelines.core.home import REMITTANCE_SCHEMA
from pipelines.land.frames import Parsed, text_frame
from pipelines.land.read import FileError

SUFFIXES = (".835", ".x12", ".edi", ".era")
ADJUSTMENT_GROUPS = ("CO", "OA", "PI")
PATIENT_GROUP = "PR"
# A line paid 0 whose only reason is 45 (charge above the fee schedule, allowed 0) was
# adjudicated, not refused; any other reason on a zero-paid line is a denial.
NOT_A_DENIAL = "45"
# Segment-level codes of pyx12's validator that mean the file's structure is broken
# (unknown or unexpected segment, missing mandatory segment, loop or segment repeated
# beyond its maximum). Element-level findings (a value too long, an unknown code) leave
# the structure intact and do not stop a file.
STRUCTURAL_SEGMENT_ERRORS = {"1", "2", "3", "4", "5"}
# pyx12 messages can quote a value of the file (a name, a member id).
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\([^)]*\)")


@dataclass
class _Payment:
    """The header of one transaction set: one payment and who made it."""

    trace: str = ""
    payer_ref: str = ""
    posted_date: str | None = None
    payer_id: str | None = None
    payer_name: str | None = None
    claims: int = 0


@dataclass
class _Mapped:
    transactions: list[dict] = field(default_factory=list)
    remittance: list[dict] = field(default_factory=list)


def parse(path: Path) -> Parsed:
    """The transactions and remittance figures of one 835 file; FileError if malformed."""
    errh = pyx12.error_handler.err_handler()
    mapped = _Mapped()
    pyx12_log = logging.getLogger("pyx12")
    level = pyx12_log.level
    pyx12_log.setLevel(logging.CRITICAL)  # its messages can quote values of the file
    try:
        # An 835 is small (a payer's remittance of a week or so): read whole, so that blank
        # lines before the ISA, which pyx12 reads by position, can be dropped.
        text = path.read_text(encoding="latin-1").lstrip()
        if not text.startswith("ISA"):
            raise FileError("is not an X12 interchange: it does not start with an ISA segment")
        reader = pyx12.x12context.X12ContextReader(pyx12.params.params(), errh, io.StringIO(text))
        with contextlib.closing(reader):
            _walk(reader.iter_segments("2100"), mapped)
    except pyx12.errors.X12Error as exc:
        raise FileError(f"is not a valid X12 interchange: {_clean(str(exc))}") from None
    except (pyx12.errors.EngineError, IndexError, KeyError, AttributeError) as exc:
        raise FileError(f"cannot be read as an X12 835 ({type(exc).__name__})") from None
    finally:
        pyx12_log.setLevel(level)
    problem = _first_structural_error(errh)
    if problem:
        raise FileError(problem)
    parsed = Parsed()
    parsed.frames["transactions"] = text_frame("transactions", mapped.transactions)
    parsed.remittance = remittance_frame(mapped.remittance)
    return parsed


def _walk(nodes: Iterator, mapped: _Mapped) -> None:
    payment = _Payment()
    seen_st = False
    for node in nodes:
        segment = node.id
        if segment == "GS":
            version = node.get_value("GS08") or ""
            if not version.startswith("005010X221"):
                raise FileError(
                    f"segment {node.cur_line_number} (GS): version {version or '(none)'} is "
                    "not the 835 of 5010 (005010X221A1)"
                )
        elif segment == "ST":
            seen_st = True
            if node.get_value("ST01") != "835":
                raise FileError(
                    f"segment {node.cur_line_number} (ST): transaction set "
                    f"{node.get_value('ST01')!s} is not an 835 remittance"
                )
            payment = _Payment()
        elif segment == "BPR":
            payment.posted_date = _date(node.get_value("BPR16"))
        elif segment == "TRN":
            payment.trace = node.get_value("TRN02") or ""
            payment.payer_ref = node.get_value("TRN03") or ""
            payment.payer_id = payment.payer_id or payment.payer_ref or None
        elif segment == "DTM" and node.get_value("DTM01") == "405":
            payment.posted_date = payment.posted_date or _date(node.get_value("DTM02"))
        elif segment == "N1" and node.get_value("N101") == "PR":
            payment.payer_name = node.get_value("N102")
        elif segment == "REF" and node.get_value("REF01") == "2U":
            payment.payer_id = node.get_value("REF02") or payment.payer_id
        elif segment == "2100":
            payment.claims += 1
            _claim(node, payment, mapped)
        elif segment == "PLB":
            _provider_level(node, payment, mapped)
    if not seen_st:
        raise FileError("holds no transaction set (no ST segment)")


def _claim(loop, payment: _Payment, mapped: _Mapped) -> None:
    claim_id = loop.get_value("CLP01")
    status = loop.get_value("CLP02") or ""
    base = f"835-{payment.payer_ref}-{payment.trace}-{payment.claims}"
    line = loop.cur_line_number
    extra = {
        "payer_id": payment.payer_id,
        "payer_name": payment.payer_name,
        "trace_number": payment.trace,
        "claim_status": status,
        "payer_claim_control_number": loop.get_value("CLP07"),
    }

    def emit(suffix, kind, amount, at, charge_id=None, reason=None):
        mapped.transactions.append(
            {
                "_line": at,
                "transaction_id": f"{base}-{suffix}",
                "claim_id": claim_id,
                "charge_id": charge_id,
                "posted_date": payment.posted_date,
                "transaction_type": kind,
                "amount": str(amount),
                "reason_code": reason,
                "_extra": extra,
            }
        )

    def patient_share(cas_list, at, charge_id):
        for group, reason, amount, _ in cas_list:
            if group == PATIENT_GROUP and amount:
                mapped.remittance.append(
                    {
                        "kind": "patient_responsibility",
                        "claim_id": claim_id,
                        "charge_id": charge_id,
                        "posted_date": payment.posted_date,
                        "reason_code": f"{group}-{reason}",
                        "amount": float(amount),
                        "payer_id": payment.payer_id,
                        "trace_number": payment.trace,
                        "_line": at,
                    }
                )

    def movements(prefix, paid, cas_list, at, charge_id):
        """A paid amount and its adjustments: payments, adjustments, take-backs."""
        if paid:
            kind = "payer_payment" if paid > 0 else "refund"
            emit(f"{prefix}P", kind, abs(paid), at, charge_id)
        for number, (group, reason, amount, cas_line) in enumerate(cas_list, start=1):
            if group not in ADJUSTMENT_GROUPS or not amount:
                continue
            kind = "contractual_adjustment" if amount > 0 else "refund"
            emit(f"{prefix}A{number}", kind, abs(amount), cas_line, charge_id, f"{group}-{reason}")

    claim_cas = list(_adjustments(loop))
    lines = list(loop.select("2110"))
    patient_share(claim_cas, line, None)
    if status == "4":
        reason = _denial_reason(claim_cas) or next(
            (r for svc in lines if (r := _denial_reason(list(_adjustments(svc))))), None
        )
        emit("D", "denial", Decimal(0), line, None, reason)
        return
    line_paid = Decimal(0)
    for number, svc in enumerate(lines, start=1):
        at = svc.cur_line_number
        charge_id = _ref(svc, "6R")
        paid = _money(svc.get_value("SVC03"), at, "SVC03")
        line_paid += paid
        cas_list = list(_adjustments(svc))
        patient_share(cas_list, at, charge_id)
        reason = _denial_reason(cas_list)
        if paid == 0 and reason and not all(r[1] == NOT_A_DENIAL for r in _adjusting(cas_list)):
            emit(f"L{number}-D", "denial", Decimal(0), at, charge_id, reason)
            continue
        movements(f"L{number}-", paid, cas_list, at, charge_id)
    # The claim's payment not itemised on its lines (all of it when it has no SVC loop).
    claim_paid = _money(loop.get_value("CLP04"), line, "CLP04") - line_paid
    movements("C", claim_paid, claim_cas, line, None)


def _adjustments(node) -> Iterator[tuple[str, str, Decimal, int]]:
    """(group, reason, amount, segment) of each CAS of a claim or line, in order.

    A CAS segment holds up to six reason/amount/quantity triples of one group.
    """
    for cas in node.select("CAS"):
        at = cas.cur_line_number
        group = (cas.get_value("CAS01") or "").strip().upper()
        for first in range(2, 20, 3):
            reason = cas.get_value(f"CAS{first:02d}")
            if not reason:
                continue
            amount = _money(cas.get_value(f"CAS{first + 1:02d}"), at, f"CAS{first + 1:02d}")
            yield group, reason.strip().upper(), amount, at


def _adjusting(cas_list):
    return [c for c in cas_list if c[0] in ADJUSTMENT_GROUPS]


def _denial_reason(cas_list) -> str | None:
    """The first CO/OA/PI reason other than 45, else the first CO/OA/PI reason."""
    adjusting = _adjusting(cas_list)
    for group, reason, _, _ in adjusting:
        if reason != NOT_A_DENIAL:
            return f"{group}-{reason}"
    return f"{adjusting[0][0]}-{adjusting[0][1]}" if adjusting else None


def _ref(node, qualifier: str) -> str | None:
    for ref in node.select("REF"):
        if ref.get_value("REF01") == qualifier:
            return ref.get_value("REF02")
    return None


def _provider_level(node, payment: _Payment, mapped: _Mapped) -> None:
    """PLB: up to six adjustments of the provider's payment, not of any claim."""
    at = node.cur_line_number
    for first in range(3, 15, 2):
        identifier = node.get_value(f"PLB{first:02d}-1")
        if not identifier:
            continue
        amount = _money(node.get_value(f"PLB{first + 1:02d}"), at, f"PLB{first + 1:02d}")
        mapped.remittance.append(
            {
                "kind": "provider_adjustment",
                "claim_id": None,
                "charge_id": None,
                "posted_date": payment.posted_date,
                "reason_code": identifier.strip().upper(),
                "amount": float(amount),
                "payer_id": payment.payer_id,
                "trace_number": payment.trace,
                "_line": at,
            }
        )


def _money(value: str | None, at: int, element: str) -> Decimal:
    if value is None or not value.strip():
        return Decimal(0)
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise FileError(f"segment {at}: {element} is not a decimal amount") from None


def _date(value: str | None) -> str | None:
    """CCYYMMDD as YYYY-MM-DD; anything else is passed on for validation to judge."""
    if value and re.fullmatch(r"\d{8}", value):
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def remittance_frame(rows: list[dict]) -> pl.DataFrame:
    """The remittance figures of one file (without the delivery's meta columns)."""
    schema = {
        k: v for k, v in REMITTANCE_SCHEMA.items() if k not in ("_delivery_id", "_source_file")
    }
    frame = pl.DataFrame(rows, schema={**schema, "posted_date": pl.String()}, orient="row")
    return frame.with_columns(pl.col("posted_date").str.to_date("%Y-%m-%d", strict=False))


def _first_structural_error(errh) -> str | None:
    """The first envelope or structure error pyx12 found, naming its segment."""
    out = io.StringIO()
    errh.accept(pyx12.errh_json.errh_json_visitor(out, indent=None))
    doc = json.loads(out.getvalue() or '{"interchanges": []}')
    for isa in doc["interchanges"]:
        for err in isa["errors"]:
            return f"segment {isa['cur_line']} (ISA envelope): {_clean(err['err_str'])}"
        for gs in isa["groups"]:
            for err in gs["errors"]:
                return f"segment {gs['cur_line']} (GS group): {_clean(err['err_str'])}"
            for st in gs["transactions"]:
                for err in st["errors"]:
                    return f"segment {st['cur_line']} (ST/SE transaction set): " + _clean(
                        err["err_str"]
                    )
                for seg in st["segments"]:
                    for err in seg["errors"]:
                        if str(err["err_cde"]) in STRUCTURAL_SEGMENT_ERRORS:
                            return f"segment {seg['cur_line']} ({seg['seg_id']}): " + _clean(
                                err["err_str"]
                            )
    return None


def _clean(message: str) -> str:
    return _QUOTED.sub("…", message).strip()
