"""FHIR R4 bulk data (NDJSON, one resource type per file, as `$export` writes it) as contracts.

Each line is one resource, validated with the R4B models of `fhir.resources` (R4B is R4
with errata; the models accept R4 resources of the types mapped here). A line that is
not JSON or not a valid resource becomes a rejected row naming the line and the field
path, never the value. What maps (docs/contracts.md, "FHIR R4"):

    Location                      → locations
    Practitioner, PractitionerRole → providers (when the providers contract exists)
    Slot (+ Schedule)             → provider_slots
    Appointment (+ Encounter)     → appointments
    Claim                         → charges (one per item)
    ExplanationOfBenefit          → transactions
    Organization (+ Coverage)     → payers

A reference crosses files: a Slot names its Schedule, whose actors are the practitioner
and the location; an Encounter names its Appointment and carries the visit's times. Such
a pair is joined with the other file of the same export (the same folder), and either
file lands the joined rows, so re-delivering either one updates them. A resource that
maps to nothing is rejected with the reason, so it is counted by type, never skipped.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

import polars as pl
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from pipelines.core.contracts import BY_ENTITY
from pipelines.land.frames import text_frame
from pipelines.land.read import FileError

SUFFIXES = (".ndjson", ".ndjson.gz")
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"
# R4 has no cancellation time; R5's Appointment.cancellationDate travels as the
# cross-version extension, else the resource's last update is when it was recorded.
CANCELLATION_EXTENSION = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.cancellationDate"
)
APPOINTMENT_STATUS = {
    "proposed": "scheduled",
    "pending": "scheduled",
    "booked": "scheduled",
    "arrived": "completed",
    "fulfilled": "completed",
    "checked-in": "completed",
    "noshow": "no_show",
    "cancelled": "cancelled",
}
OFFERED_SLOT_STATUS = ("free", "busy", "busy-tentative")
# Encounter.statusHistory → the contract's visit times (the start of each status).
VISIT_STATUS_TIMES = {
    "arrived": "checked_in_at",
    "triaged": "roomed_at",
    "in-progress": "provider_start_at",
    "finished": "checked_out_at",
}
# The resource type each file holds → the entity it lands as, and its partner file.
ENTITY_OF_TYPE = {
    "Location": "locations",
    "Practitioner": "providers",
    "PractitionerRole": "providers",
    "Slot": "provider_slots",
    "Schedule": "provider_slots",
    "Appointment": "appointments",
    "Encounter": "appointments",
    "Claim": "charges",
    "ExplanationOfBenefit": "transactions",
    "Organization": "payers",
    "Coverage": "payers",
}
PARTNER = {
    "Organization": "Coverage",
    "Coverage": "Organization",
    "Practitioner": "PractitionerRole",
    "PractitionerRole": "Practitioner",
    "Slot": "Schedule",
    "Schedule": "Slot",
    "Appointment": "Encounter",
    "Encounter": "Appointment",
}
_TYPE_TOKEN = re.compile(r"[A-Za-z]+")


def resource_type(path: Path) -> str | None:
    """The resource type a bulk file holds: named in its file name, else its first line's."""
    stem = path.name.split(".ndjson")[0]
    for token in _TYPE_TOKEN.findall(stem):
        if token in ENTITY_OF_TYPE or _is_fhir_type(token):
            return token
    try:
        for line in _lines(path):
            if line.strip():
                return json.loads(line).get("resourceType")
    except (OSError, EOFError, ValueError, AttributeError):
        return None
    return None


def entity_of(path: Path) -> str | None:
    entity = ENTITY_OF_TYPE.get(resource_type(path) or "")
    return entity if entity in BY_ENTITY else None


def unmapped_reason(path: Path) -> str:
    """Why a bulk file lands as no entity, with its resources counted."""
    kind = resource_type(path)
    count = sum(1 for line in _lines(path) if line.strip())
    if kind in ENTITY_OF_TYPE:
        return (
            f"{count:,} {kind} resource(s): {kind} maps to {ENTITY_OF_TYPE[kind]}, a contract "
            "this build does not have"
        )
    return f"{count:,} {kind or 'unknown'} resource(s): this resource type maps to no contract"


def read_batches(path: Path, entity: str, batch_rows: int) -> Iterator[pl.DataFrame]:
    """The file's resources as text frames of `entity`, `batch_rows` rows at a time."""
    kind = resource_type(path)
    mapper = _MAPPERS[kind](path, kind)
    rows: list[dict] = []
    for row in mapper:
        rows.append(row)
        if len(rows) >= batch_rows:
            yield text_frame(entity, rows)
            rows = []
    if rows:
        yield text_frame(entity, rows)


def _is_fhir_type(token: str) -> bool:
    if not token[:1].isupper():
        return False
    try:
        get_fhir_model_class(token)
    except (ValueError, KeyError, ImportError):
        return False
    return True


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        yield from fh


def _resources(path: Path, kind: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line, resource, problem) of each non-blank line, validated against its model."""
    model = get_fhir_model_class(kind)
    try:
        for number, line in enumerate(_lines(path), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                yield number, None, "the line is not JSON"
                continue
            if not isinstance(data, dict) or data.get("resourceType") != kind:
                found = data.get("resourceType") if isinstance(data, dict) else None
                yield (
                    number,
                    None,
                    (f"resource type {found!s} in a file of {kind} (one resource type per file)"),
                )
                continue
            try:
                model.model_validate(data)
            except ValidationError as exc:
                yield number, None, f"{kind} is not a valid FHIR R4 resource: {_where(exc)}"
                continue
            yield number, data, None
    except UnicodeDecodeError:
        raise FileError("is not UTF-8 text (FHIR NDJSON is always UTF-8)") from None
    except (OSError, EOFError) as exc:
        raise FileError(f"cannot be decompressed ({exc})") from None


def _where(exc: ValidationError) -> str:
    """The failing field paths and kinds of error; pydantic's messages quote values."""
    parts = []
    for error in exc.errors()[:3]:
        location = ".".join(str(p) for p in error["loc"]) or "(resource)"
        parts.append(f"{location} ({error['type']})")
    return "; ".join(parts)


def _partner(path: Path, kind: str) -> Iterator[tuple[int, dict]]:
    """Valid resources of the partner type from the bulk files in the same folder."""
    partner = PARTNER[kind]
    for sibling in sorted(path.parent.iterdir()):
        if sibling == path or not sibling.name.lower().endswith(SUFFIXES):
            continue
        if resource_type(sibling) != partner:
            continue
        for number, data, problem in _resources(sibling, partner):
            if problem is None:
                yield number, data


def _ref_id(reference: dict | None, kind: str) -> str | None:
    """`Practitioner/123` (or an absolute URL ending so) → `123` when it is of `kind`."""
    text = (reference or {}).get("reference") or ""
    parts = text.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == kind:
        return parts[-1]
    return None


def _stamp(value: str | None) -> str | None:
    """A FHIR dateTime/instant as the contract writes it: `YYYY-MM-DD HH:MM:SS[+HH:MM]`."""
    if value is None:
        return None
    return value.replace("T", " ", 1) if "T" in value else value


def _minutes(start: str | None, end: str | None) -> int | None:
    try:
        delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return int(delta.total_seconds() // 60)


def _code(concept: dict | None) -> str | None:
    concept = concept or {}
    for coding in concept.get("coding") or []:
        if coding.get("code"):
            return coding["code"]
    return concept.get("text")


def _extension(resource: dict, url: str) -> str | None:
    for ext in resource.get("extension") or []:
        if ext.get("url") == url:
            return next((v for k, v in ext.items() if k.startswith("value")), None)
    return None


def _rows(path: Path, kind: str, build: Callable[[dict], Iterable[dict]]) -> Iterator[dict]:
    for number, data, problem in _resources(path, kind):
        if problem is not None:
            yield {"_line": number, "_problem": problem}
            continue
        for row in build(data):
            yield {"_line": number, **row}


def _locations(path: Path, kind: str) -> Iterator[dict]:
    def build(location: dict) -> Iterable[dict]:
        yield {
            "location_id": location.get("id"),
            "location_name": location.get("name"),
            "timezone": _extension(location, TIMEZONE_EXTENSION),
        }

    return _rows(path, kind, build)


def _providers(path: Path, kind: str) -> Iterator[dict]:
    """Practitioner (name, NPI) joined with its PractitionerRole (specialty, location)."""
    practitioners = {}
    roles: dict[str, dict] = {}
    own = _resources(path, kind)
    partner = _partner(path, kind)
    for _, data in partner:
        if kind == "Practitioner":
            roles.setdefault(_ref_id(data.get("practitioner"), "Practitioner") or "", data)
        else:
            practitioners[data.get("id")] = data

    def row(practitioner: dict, role: dict | None) -> dict:
        role = role or {}
        npi = next(
            (
                i.get("value")
                for i in practitioner.get("identifier") or []
                if i.get("system") == NPI_SYSTEM
            ),
            None,
        )
        return {
            "provider_id": practitioner.get("id"),
            "display_name": _display_name(practitioner),
            "npi": npi,
            "specialty": next((_code(s) for s in role.get("specialty") or []), None),
            "location_id": next((_ref_id(r, "Location") for r in role.get("location") or []), None),
        }

    for number, data, problem in own:
        if problem is not None:
            yield {"_line": number, "_problem": problem}
        elif kind == "Practitioner":
            yield {"_line": number, **row(data, roles.get(data.get("id")))}
        else:
            practitioner_id = _ref_id(data.get("practitioner"), "Practitioner")
            practitioner = practitioners.get(practitioner_id)
            if practitioner is None:
                yield {
                    "_line": number,
                    "_problem": "PractitionerRole names no Practitioner of this export",
                }
            else:
                yield {"_line": number, **row(practitioner, data)}


def _display_name(practitioner: dict) -> str | None:
    names = practitioner.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    if name.get("text"):
        return name["text"]
    parts = [*name.get("prefix", []), *name.get("given", []), name.get("family")]
    return " ".join(p for p in parts if p) or None


def _slots(path: Path, kind: str) -> Iterator[dict]:
    """Slots with their schedule's practitioner and location (from either file)."""
    if kind == "Slot":
        schedules = {data.get("id"): data for _, data in _partner(path, kind)}
        for number, data, problem in _resources(path, kind):
            if problem is not None:
                yield {"_line": number, "_problem": problem}
                continue
            schedule_id = _ref_id(data.get("schedule"), "Schedule")
            yield {"_line": number, **_slot_row(data, schedules.get(schedule_id))}
        return
    slots: dict[str, list[dict]] = {}
    for _, data in _partner(path, kind):
        slots.setdefault(_ref_id(data.get("schedule"), "Schedule") or "", []).append(data)
    for number, data, problem in _resources(path, kind):
        if problem is not None:
            yield {"_line": number, "_problem": problem}
            continue
        for slot in slots.get(data.get("id"), []):
            yield {"_line": number, **_slot_row(slot, data)}


def _slot_row(slot: dict, schedule: dict | None) -> dict:
    actors = (schedule or {}).get("actor") or []
    row = {
        "provider_id": next((i for a in actors if (i := _ref_id(a, "Practitioner"))), None),
        "location_id": next((i for a in actors if (i := _ref_id(a, "Location"))), None),
        "slot_start": _stamp(slot.get("start")),
        "slot_minutes": _minutes(slot.get("start"), slot.get("end")),
        "_extra": {"slot_id": slot.get("id"), "slot_status": slot.get("status")},
    }
    if schedule is None:
        row["_problem"] = "the Slot's Schedule is not in this export"
    elif slot.get("status") not in OFFERED_SLOT_STATUS:
        row["_problem"] = f"a Slot with status {slot.get('status')} is not an offered slot"
    return row


def _appointments(path: Path, kind: str) -> Iterator[dict]:
    """Appointments with their encounter's visit times (from either file)."""
    if kind == "Appointment":
        encounters: dict[str, dict] = {}
        for _, data in _partner(path, kind):
            for ref in data.get("appointment") or []:
                encounters.setdefault(_ref_id(ref, "Appointment") or "", data)
        for number, data, problem in _resources(path, kind):
            if problem is not None:
                yield {"_line": number, "_problem": problem}
                continue
            yield {"_line": number, **_appointment_row(data, encounters.get(data.get("id")))}
        return
    appointments = {data.get("id"): data for _, data in _partner(path, kind)}
    for number, data, problem in _resources(path, kind):
        if problem is not None:
            yield {"_line": number, "_problem": problem}
            continue
        refs = [_ref_id(r, "Appointment") for r in data.get("appointment") or []]
        found = [appointments[r] for r in refs if r in appointments]
        if not found:
            yield {
                "_line": number,
                "_problem": "the Encounter names no Appointment of this export",
            }
        for appointment in found[:1]:
            yield {"_line": number, **_appointment_row(appointment, data)}


def _appointment_row(appointment: dict, encounter: dict | None) -> dict:
    actors = [p.get("actor") for p in appointment.get("participant") or []]
    status = appointment.get("status")
    mapped = APPOINTMENT_STATUS.get(status or "")
    cancelled_at = None
    if mapped == "cancelled":
        cancelled_at = _extension(appointment, CANCELLATION_EXTENSION) or (
            appointment.get("meta") or {}
        ).get("lastUpdated")
    minutes = appointment.get("minutesDuration") or _minutes(
        appointment.get("start"), appointment.get("end")
    )
    row = {
        "appointment_id": appointment.get("id"),
        "patient_id": next((i for a in actors if (i := _ref_id(a, "Patient"))), None),
        "provider_id": next((i for a in actors if (i := _ref_id(a, "Practitioner"))), None),
        "location_id": next((i for a in actors if (i := _ref_id(a, "Location"))), None),
        "appointment_type": _code(appointment.get("appointmentType"))
        or next((_code(s) for s in appointment.get("serviceType") or []), None),
        "booked_at": _stamp(appointment.get("created")),
        "scheduled_start": _stamp(appointment.get("start")),
        "scheduled_minutes": minutes,
        "status": mapped,
        "cancelled_at": _stamp(cancelled_at),
        "_extra": {"fhir_status": status},
    }
    if mapped is None:
        row["_problem"] = f"Appointment status {status} maps to no contract status"
    if encounter is not None:
        row |= _visit_times(encounter)
    return row


def _visit_times(encounter: dict) -> dict:
    """The visit's times from the encounter's status history, else its period."""
    times: dict[str, str | None] = {"encounter_id": encounter.get("id")}
    history = encounter.get("statusHistory") or []
    for entry in history:
        column = VISIT_STATUS_TIMES.get(entry.get("status"))
        start = (entry.get("period") or {}).get("start")
        if column and start and column not in times:
            times[column] = _stamp(start)
    if not history:
        period = encounter.get("period") or {}
        times["checked_in_at"] = _stamp(period.get("start"))
        times["checked_out_at"] = _stamp(period.get("end"))
    return times


def _date(value: str | None) -> str | None:
    """The date part of a FHIR date or dateTime."""
    return value[:10] if value else None


def _amount(money: dict | None) -> float | None:
    value = (money or {}).get("value")
    return None if value is None else float(value)


def _line_id(claim_id: str | None, sequence: object) -> str | None:
    """A claim line's charge_id: the claim and the item's sequence (Claim and EOB agree)."""
    return f"{claim_id}-{sequence}" if claim_id and sequence is not None else None


def _billing_code(concept: dict | None) -> str | None:
    """The CPT/HCPCS coding of a product or service, else its first code."""
    codings = (concept or {}).get("coding") or []
    for coding in codings:
        system = (coding.get("system") or "").lower()
        if ("cpt" in system or "hcpcs" in system) and coding.get("code"):
            return coding["code"]
    return _code(concept)


def _charges(path: Path, kind: str) -> Iterator[dict]:
    """Claim → one charge per item (a Claim's lines)."""

    def build(claim: dict) -> Iterable[dict]:
        practitioners = [
            i
            for t in claim.get("careTeam") or []
            if (i := _ref_id(t.get("provider"), "Practitioner"))
        ]
        provider = _ref_id(claim.get("provider"), "Practitioner") or next(iter(practitioners), None)
        facility = _ref_id(claim.get("facility"), "Location")
        billable = (claim.get("billablePeriod") or {}).get("start")
        items = claim.get("item") or []
        if not items:
            yield {"_problem": "a Claim without items bills no line"}
        for item in items:
            quantity = (item.get("quantity") or {}).get("value") or 1
            amount = _amount(item.get("net"))
            if amount is None and _amount(item.get("unitPrice")) is not None:
                amount = round(_amount(item.get("unitPrice")) * float(quantity), 2)
            yield {
                "charge_id": _line_id(claim.get("id"), item.get("sequence")),
                "claim_id": claim.get("id"),
                "encounter_id": next(
                    (_ref_id(e, "Encounter") for e in item.get("encounter") or []), None
                ),
                "patient_id": _ref_id(claim.get("patient"), "Patient"),
                "rendering_provider_id": provider,
                "location_id": _ref_id(item.get("locationReference"), "Location") or facility,
                "payer_id": _ref_id(claim.get("insurer"), "Organization"),
                "service_date": _date(
                    item.get("servicedDate")
                    or (item.get("servicedPeriod") or {}).get("start")
                    or billable
                ),
                "posted_date": _date(claim.get("created")),
                "cpt_code": _billing_code(item.get("productOrService")),
                "modifier": next((_code(m) for m in item.get("modifier") or []), None),
                "units": int(float(quantity)),
                "charge_amount": amount,
            }

    return _rows(path, kind, build)


# EOB adjudication categories: the base FHIR codes and the CMS Blue Button ones.
_PAID = ("benefit", "paidtoprovider", "payment", "line_prvdr_pmt_amt", "line_nch_pmt_amt")
_SUBMITTED = ("submitted", "line_sbmtd_chrg_amt")
_ALLOWED = ("eligible", "line_alowd_chrg_amt")


def _adjudicated(item: dict) -> dict[str, float]:
    amounts: dict[str, float] = {}
    for adjudication in item.get("adjudication") or []:
        code = (_code(adjudication.get("category")) or "").lower().rsplit("/", 1)[-1]
        value = _amount(adjudication.get("amount"))
        for name, codes in (("paid", _PAID), ("submitted", _SUBMITTED), ("allowed", _ALLOWED)):
            if value is not None and code in codes:
                amounts[name] = amounts.get(name, 0.0) + value
    return amounts


def _denial_code(item: dict) -> str | None:
    for adjudication in item.get("adjudication") or []:
        reason = _code(adjudication.get("reason"))
        if reason:
            return reason if "-" in reason else f"CO-{reason}"
    return None


def _eob_transactions(path: Path, kind: str) -> Iterator[dict]:
    """ExplanationOfBenefit → the payer's payments, CO-45 adjustments and denials.

    Per item: the paid amount is a payer_payment, submitted − allowed a contractual
    adjustment (CO-45), a zero payment with an adjudication reason a denial. An EOB
    without items is paid at claim level (payment.amount). The patient's share
    (deductible, copay, coinsurance) is no A/R movement of the payer and is not mapped.
    """

    def build(eob: dict) -> Iterable[dict]:
        claim_id = _ref_id(eob.get("claim"), "Claim") or eob.get("id")
        posted = _date((eob.get("payment") or {}).get("date") or eob.get("created"))
        base = f"EOB-{eob.get('id')}"
        extra = {
            "payer_id": _ref_id(eob.get("insurer"), "Organization"),
            "outcome": eob.get("outcome"),
        }

        def row(suffix, kind, amount, charge_id=None, reason=None):
            return {
                "transaction_id": f"{base}-{suffix}",
                "claim_id": claim_id,
                "charge_id": charge_id,
                "posted_date": posted,
                "transaction_type": "refund" if amount < 0 else kind,
                "amount": round(abs(amount), 2),
                "reason_code": reason,
                "_extra": extra,
            }

        items = eob.get("item") or []
        for item in items:
            sequence = item.get("sequence")
            charge_id = _line_id(claim_id, sequence)
            amounts = _adjudicated(item)
            paid = amounts.get("paid", 0.0)
            reason = _denial_code(item)
            if paid == 0 and reason:
                yield row(f"{sequence}-D", "denial", 0.0, charge_id, reason)
                continue
            if paid:
                yield row(f"{sequence}-P", "payer_payment", paid, charge_id)
            if "submitted" in amounts and "allowed" in amounts:
                adjustment = round(amounts["submitted"] - amounts["allowed"], 2)
                if adjustment:
                    yield row(
                        f"{sequence}-A", "contractual_adjustment", adjustment, charge_id, "CO-45"
                    )
        if not items:
            paid = _amount((eob.get("payment") or {}).get("amount")) or 0.0
            if paid:
                yield row("P", "payer_payment", paid)
            elif eob.get("outcome") == "error":
                yield row("D", "denial", 0.0)

    return _rows(path, kind, build)


FINANCIAL_CLASS_WORDS = (
    ("medicare", "medicare"),
    ("medicaid", "medicaid"),
    ("self", "self_pay"),
    ("commercial", "commercial"),
    ("private", "commercial"),
    ("ppo", "commercial"),
    ("hmo", "commercial"),
)
PAYER_ORGANIZATION_TYPES = ("pay", "ins")


def _financial_class(coverage: dict | None) -> str:
    """Coverage.type (code or text) by keyword, else other."""
    if coverage is None:
        return "other"
    concept = coverage.get("type") or {}
    words = " ".join(
        [concept.get("text") or ""]
        + [f"{c.get('code') or ''} {c.get('display') or ''}" for c in concept.get("coding") or []]
    ).lower()
    return next((cls for word, cls in FINANCIAL_CLASS_WORDS if word in words), "other")


def _payers(path: Path, kind: str) -> Iterator[dict]:
    """Organization (a payer) with the financial class of a Coverage it pays (either file)."""
    if kind == "Organization":
        coverage_of: dict[str, dict] = {}
        for _, data in _partner(path, kind):
            for payor in data.get("payor") or []:
                coverage_of.setdefault(_ref_id(payor, "Organization") or "", data)
        for number, data, problem in _resources(path, kind):
            if problem is not None:
                yield {"_line": number, "_problem": problem}
                continue
            types = {(_code(t) or "").lower() for t in data.get("type") or []}
            coverage = coverage_of.get(data.get("id"))
            row = {
                "payer_id": data.get("id"),
                "payer_name": data.get("name"),
                "financial_class": _financial_class(coverage),
            }
            if coverage is None and not types & set(PAYER_ORGANIZATION_TYPES):
                row["_problem"] = "the Organization is no payer (not of type pay/ins, no Coverage)"
            yield {"_line": number, **row}
        return
    organizations = {data.get("id"): data for _, data in _partner(path, kind)}
    for number, data, problem in _resources(path, kind):
        if problem is not None:
            yield {"_line": number, "_problem": problem}
            continue
        payors = [o for p in data.get("payor") or [] if (o := _ref_id(p, "Organization"))]
        found = [organizations[o] for o in payors if o in organizations]
        if not found:
            yield {
                "_line": number,
                "_problem": "the Coverage's payor is no Organization of this export",
            }
        for organization in found[:1]:
            yield {
                "_line": number,
                "payer_id": organization.get("id"),
                "payer_name": organization.get("name"),
                "financial_class": _financial_class(data),
            }


_MAPPERS: dict[str, Callable[[Path, str], Iterator[dict]]] = {
    "Claim": _charges,
    "ExplanationOfBenefit": _eob_transactions,
    "Organization": _payers,
    "Coverage": _payers,
    "Location": _locations,
    "Practitioner": _providers,
    "PractitionerRole": _providers,
    "Slot": _slots,
    "Schedule": _slots,
    "Appointment": _appointments,
    "Encounter": _appointments,
}
