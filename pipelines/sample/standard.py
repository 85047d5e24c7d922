"""The same practice in standard formats: payer remittances as X12 835, scheduling as FHIR.

Reads a CSV delivery written by `generate_practice` and writes a second inbox holding the
same facts: the payers' side of transactions (payments, CO adjustments, denials,
refunds) as one 835 per payer and ISO week, with one transaction set per posting day;
locations, provider_slots and appointments as FHIR R4 bulk NDJSON (Location, Schedule +
Slot, Appointment + Encounter). Everything an 835 or FHIR cannot carry stays CSV: the
patient's payments, write-offs and the self-pay discount, and every other entity. Landing
either inbox must publish the same KPI values (tests/land/test_round_trip.py).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from pipelines.core.contracts import contract_for
from pipelines.sample.writer import inbox_path

# CLP06, the claim filing indicator, by the payer's financial class.
FILING_INDICATOR = {"commercial": "CI", "medicare": "MB", "medicaid": "MC", "other": "ZZ"}
REMITTED_TYPES = ("payer_payment", "denial", "refund")
STATUS_TO_FHIR = {
    "scheduled": "booked",
    "completed": "fulfilled",
    "no_show": "noshow",
    "cancelled": "cancelled",
}
VISIT_STATUSES = (
    ("checked_in_at", "arrived"),
    ("roomed_at", "triaged"),
    ("provider_start_at", "in-progress"),
    ("checked_out_at", "finished"),
)
CANCELLATION_EXTENSION = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.cancellationDate"
)
TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"


def write_standard_inbox(
    csv_inbox: Path, out: Path, *, x12: bool = True, fhir: bool = True
) -> dict[str, int]:
    """Write `out` as `csv_inbox` with remittances as 835 and scheduling as FHIR NDJSON.

    Returns the number of files written per format.
    """
    replaced = set()
    counts = {"csv": 0, "835": 0, "ndjson": 0}
    if x12:
        replaced.add("transactions")
        counts["835"] = _write_remittances(csv_inbox, out)
    if fhir:
        replaced |= {"locations", "provider_slots", "appointments"}
        counts["ndjson"] = _write_fhir(csv_inbox, out)
    for path in sorted(csv_inbox.rglob("*.csv.gz")):
        entity = path.name.removesuffix(".csv.gz")
        if entity in replaced:
            continue
        target = out / path.relative_to(csv_inbox)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        counts["csv"] += 1
    return counts


def _read(csv_inbox: Path, entity: str) -> pl.DataFrame:
    return pl.read_csv(inbox_path(csv_inbox, entity), infer_schema=False)


# -- X12 835 ------------------------------------------------------------------------------


def _write_remittances(csv_inbox: Path, out: Path) -> int:
    """The payers' transactions as 835s; the rest stays in transactions.csv.gz."""
    transactions = _read(csv_inbox, "transactions").with_row_index("_order")
    claims = _read(csv_inbox, "claims").select("claim_id", "payer_id")
    payers = _read(csv_inbox, "payers")
    charges = _read(csv_inbox, "charges").select(
        "charge_id", "claim_id", "cpt_code", "modifier", "units", "charge_amount"
    )
    insured = payers.filter(pl.col("financial_class") != "self_pay")
    remitted = pl.col("transaction_type").is_in(REMITTED_TYPES) | (
        (pl.col("transaction_type") == "contractual_adjustment")
        & pl.col("reason_code").str.starts_with("CO-")
    )
    tagged = transactions.join(claims, on="claim_id", how="left").with_columns(
        remitted=(remitted & pl.col("payer_id").is_in(insured["payer_id"])).fill_null(False)
    )
    rest = tagged.filter(~pl.col("remitted")).sort("_order")
    target = inbox_path(out, "transactions")
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(target, "wb") as fh,
        gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz,
    ):
        rest.select(contract_for("transactions").names).write_csv(gz)
    remits = tagged.filter("remitted").with_columns(
        posted=pl.col("posted_date").str.to_date("%Y-%m-%d"),
        amount=pl.col("amount").cast(pl.Float64),
    )
    remits = remits.with_columns(week=pl.col("posted").dt.strftime("%G-W%V"))
    lines = charges.with_columns(
        charge_amount=pl.col("charge_amount").cast(pl.Float64),
    )
    claim_totals = dict(lines.group_by("claim_id").agg(pl.col("charge_amount").sum()).iter_rows())
    line_info = {r["charge_id"]: r for r in lines.iter_rows(named=True)}
    payer_info = {r["payer_id"]: r for r in payers.iter_rows(named=True)}
    folder = out / "billing"
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for (payer_id, week), group in sorted(
        remits.partition_by(["payer_id", "week"], as_dict=True).items()
    ):
        written += 1
        sets = [
            _transaction_set(
                number, payer_info[payer_id], day, rows.sort("_order"), claim_totals, line_info
            )
            for number, (day, rows) in enumerate(
                sorted(group.partition_by("posted", as_dict=True).items()), start=1
            )
        ]
        text = _interchange(written, sets)
        (folder / f"remittance_{payer_id}_{week}.835").write_text(text, encoding="ascii")
    return written


def _money(value: float) -> str:
    text = f"{value:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _payer_number(payer_id: str) -> str:
    """TRN03: '1' and a nine-digit number standing for the payer's tax id."""
    digest = int(hashlib.sha256(payer_id.encode()).hexdigest(), 16)
    return f"1{digest % 10**9:09d}"


def _transaction_set(number, payer, day, rows, claim_totals, line_info) -> list[str]:
    """One ST..SE: the payer's remittance of one posting day."""
    day_text = day[0].strftime("%Y%m%d")
    clps: list[str] = []
    total = 0.0
    for (claim_id,), claim_rows in rows.partition_by("claim_id", as_dict=True).items():
        segments, paid = _claims(claim_id, claim_rows, payer, claim_totals, line_info)
        clps.extend(segments)
        total += paid
    trn03 = _payer_number(payer["payer_id"])
    body = [
        f"ST*835*{number:04d}",
        f"BPR*{'I' if total > 0 else 'H'}*{_money(max(total, 0.0))}*C*ACH*CCP*01*999999999*DA"
        f"*123456*{trn03}**01*999988880*DA*98765*{day_text}",
        f"TRN*1*{payer['payer_id']}-{day_text}*{trn03}",
        f"DTM*405*{day_text}",
        f"N1*PR*{payer['payer_name'].upper()}",
        "N3*1 PAYER WAY",
        "N4*CHICAGO*IL*60601",
        f"REF*2U*{payer['payer_id']}",
        "PER*BL*PROVIDER SERVICES*TE*8005550100",
        "N1*PE*SAMPLE PRACTICE*XX*1234567893",
        "LX*1",
        *clps,
    ]
    body.append(f"SE*{len(body) + 1}*{number:04d}")
    return body


def _claims(claim_id, rows, payer, claim_totals, line_info) -> tuple[list[str], float]:
    """The CLP loops of one claim on one day: denials, take-backs, the rest; and the paid."""
    filing = FILING_INDICATOR.get(payer["financial_class"], "ZZ")
    total = _money(claim_totals.get(claim_id, 0.0))
    head = f"*{total}"
    out: list[str] = []
    paid_sum = 0.0
    records = rows.to_dicts()
    denials = [r for r in records if r["transaction_type"] == "denial" and r["charge_id"] is None]
    refunds = [r for r in records if r["transaction_type"] == "refund"]
    others = [r for r in records if r not in denials and r not in refunds]
    for denial in denials:
        group, carc = denial["reason_code"].split("-", 1)
        out += [
            f"CLP*{claim_id}*4{head}*0**{filing}*{claim_id}*11*1",
            f"CAS*{group}*{carc}*{total}",
            "NM1*QC*1",
        ]
    if refunds:
        segments, paid = _clp(claim_id, "22", refunds, head, filing, line_info, sign=-1)
        out += segments
        paid_sum += paid
    if others:
        segments, paid = _clp(claim_id, "1", others, head, filing, line_info, sign=1)
        out += segments
        paid_sum += paid
    return out, paid_sum


def _clp(claim_id, status, records, head, filing, line_info, sign) -> tuple[list[str], float]:
    def cas(record, amount_text):
        group, carc = record["reason_code"].split("-", 1)
        return f"CAS*{group}*{carc}*{amount_text}"

    claim_level = [r for r in records if r["charge_id"] is None]
    by_line: dict[str, list[dict]] = {}
    for r in records:
        if r["charge_id"] is not None:
            by_line.setdefault(r["charge_id"], []).append(r)
    claim_paid = sign * sum(
        r["amount"]
        for r in claim_level
        if r["transaction_type"] in ("payer_payment", "refund") and r["reason_code"] is None
    )
    svc_segments: list[str] = []
    line_paid_total = 0.0
    for charge_id, line_records in by_line.items():
        line = line_info.get(charge_id) or {}
        code = line.get("cpt_code") or "99499"
        modifier = f":{line['modifier']}" if line.get("modifier") else ""
        paid = sign * sum(
            r["amount"]
            for r in line_records
            if r["transaction_type"] in ("payer_payment", "refund") and r["reason_code"] is None
        )
        line_paid_total += paid
        svc_segments.append(
            f"SVC*HC:{code}{modifier}*{_money(line.get('charge_amount') or 0.0)}*{_money(paid)}"
            f"**{line.get('units') or 1}"
        )
        for r in line_records:
            if r["transaction_type"] == "denial":
                svc_segments.append(cas(r, _money(line.get("charge_amount") or 0.0)))
            elif r["reason_code"] is not None:
                svc_segments.append(cas(r, _money(sign * r["amount"])))
        svc_segments.append(f"REF*6R*{charge_id}")
    paid_total = claim_paid + line_paid_total
    segments = [f"CLP*{claim_id}*{status}{head}*{_money(paid_total)}**{filing}*{claim_id}*11*1"]
    segments += [cas(r, _money(sign * r["amount"])) for r in claim_level if r["reason_code"]]
    segments.append("NM1*QC*1")
    return segments + svc_segments, paid_total


def _interchange(control: int, sets: list[list[str]]) -> str:
    number = f"{control:09d}"
    segments = [
        "ISA*00*          *00*          *ZZ*SAMPLEPAYERS   *ZZ*SAMPLEPRACTICE "
        f"*261201*0800*^*00501*{number}*0*P*:",
        f"GS*HP*SAMPLEPAYERS*SAMPLEPRACTICE*20261201*0800*{control}*X*005010X221A1",
        *[segment for st in sets for segment in st],
        f"GE*{len(sets)}*{control}",
        f"IEA*1*{number}",
    ]
    return "~\n".join(segments) + "~\n"


# -- FHIR R4 bulk NDJSON --------------------------------------------------------------------


def _write_fhir(csv_inbox: Path, out: Path) -> int:
    folder = out / "scheduling"
    folder.mkdir(parents=True, exist_ok=True)
    locations = _read(csv_inbox, "locations")
    zones = dict(locations.select("location_id", "timezone").iter_rows())
    _ndjson(folder / "Location.ndjson", (_location(r) for r in locations.iter_rows(named=True)))
    slots = _localised(_read(csv_inbox, "provider_slots"), ["slot_start"], zones)
    slots = slots.with_columns(
        slot_end=pl.col("slot_start_local")
        + pl.duration(minutes=pl.col("slot_minutes").cast(pl.Int64))
    )
    pairs = slots.select("provider_id", "location_id").unique().sort("provider_id", "location_id")
    _ndjson(folder / "Schedule.ndjson", (_schedule(p, loc) for p, loc in pairs.iter_rows()))
    _ndjson(folder / "Slot.ndjson", (_slot(r) for r in slots.iter_rows(named=True)))
    stamps = [c.name for c in contract_for("appointments").columns if c.kind.value == "timestamp"]
    appointments = _localised(_read(csv_inbox, "appointments"), stamps, zones)
    _ndjson(
        folder / "Appointment.ndjson",
        (_appointment(r) for r in appointments.iter_rows(named=True)),
    )
    _ndjson(
        folder / "Encounter.ndjson",
        (
            _encounter(r)
            for r in appointments.filter(pl.col("encounter_id").is_not_null()).iter_rows(named=True)
        ),
    )
    return 5


def _ndjson(path: Path, resources: Iterator[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for resource in resources:
            fh.write(json.dumps(resource, separators=(",", ":")) + "\n")


def _localised(frame: pl.DataFrame, columns: list[str], zones: dict[str, str]) -> pl.DataFrame:
    """Each wall-clock stamp as ISO 8601 with its location's UTC offset (FHIR needs one).

    A stamp the export already wrote with an offset keeps it; `<column>_local` keeps the
    wall-clock value for arithmetic.
    """
    parts = []
    for location_id, part in frame.partition_by("location_id", as_dict=True).items():
        zone = zones.get(location_id[0]) or "UTC"
        exprs = []
        for column in columns:
            text = pl.col(column)
            has_offset = text.str.contains(r"(Z|[+-]\d{2}:?\d{2})$")
            padded = pl.when(text.str.len_chars() == 16).then(text + ":00").otherwise(text)
            wall = padded.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
            aware = wall.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
            iso = aware.dt.strftime("%Y-%m-%dT%H:%M:%S%:z")
            # FHIR wants seconds: `2026-03-02T14:05Z` is written `2026-03-02T14:05:00Z`.
            written = text.str.replace(" ", "T", literal=True).str.replace(
                r"T(\d{2}:\d{2})([Z+-])", "T${1}:00${2}"
            )
            exprs += [
                pl.when(has_offset).then(written).otherwise(iso).alias(column),
                wall.alias(f"{column}_local"),
            ]
        parts.append(part.with_columns(exprs))
    return pl.concat(parts, how="vertical_relaxed") if parts else frame


def _location(row: dict) -> dict:
    resource = {"resourceType": "Location", "id": row["location_id"], "name": row["location_name"]}
    if row.get("timezone"):
        resource["extension"] = [{"url": TIMEZONE_EXTENSION, "valueCode": row["timezone"]}]
    return resource


def _schedule(provider_id: str, location_id: str) -> dict:
    return {
        "resourceType": "Schedule",
        "id": f"{provider_id}-{location_id}",
        "actor": [
            {"reference": f"Practitioner/{provider_id}"},
            {"reference": f"Location/{location_id}"},
        ],
    }


def _slot(row: dict) -> dict:
    start = row["slot_start"]
    end_local = row["slot_end"]
    offset = start[19:]
    return {
        "resourceType": "Slot",
        "id": f"{row['provider_id']}-{start[:16].replace(':', '').replace('-', '')}",
        "schedule": {"reference": f"Schedule/{row['provider_id']}-{row['location_id']}"},
        "status": "free",
        "start": start,
        "end": end_local.strftime("%Y-%m-%dT%H:%M:%S") + offset,
    }


def _appointment(row: dict) -> dict:
    resource = {
        "resourceType": "Appointment",
        "id": row["appointment_id"],
        "status": STATUS_TO_FHIR[row["status"]],
        "appointmentType": {"coding": [{"code": row["appointment_type"]}]},
        "created": row["booked_at"],
        "start": row["scheduled_start"],
        "minutesDuration": int(row["scheduled_minutes"]),
        "participant": [
            {"actor": {"reference": f"Patient/{row['patient_id']}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{row['provider_id']}"}, "status": "accepted"},
            {"actor": {"reference": f"Location/{row['location_id']}"}, "status": "accepted"},
        ],
    }
    if row["cancelled_at"]:
        resource["extension"] = [
            {"url": CANCELLATION_EXTENSION, "valueDateTime": row["cancelled_at"]}
        ]
    return resource


def _encounter(row: dict) -> dict:
    history = [
        {"status": status, "period": {"start": row[column]}}
        for column, status in VISIT_STATUSES
        if row[column]
    ]
    encounter = {
        "resourceType": "Encounter",
        "id": row["encounter_id"],
        "status": "finished" if row["checked_out_at"] else "in-progress",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
        },
        "appointment": [{"reference": f"Appointment/{row['appointment_id']}"}],
    }
    if history:
        encounter["statusHistory"] = history
    return encounter
