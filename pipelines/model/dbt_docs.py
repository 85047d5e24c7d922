"""dbt's YAML for the lake sources and the staging models, rendered from the contracts.

The contracts (pipelines/core/contracts.py) already say what every input column means, which
columns are personal data and what a row's key is. Writing that again by hand in dbt's
YAML would drift; so this renders it, like Tuva documents every input column:

- `models/staging/_lake__sources.yml`: the lake's tables, each column described, the
  hashed personal-data columns marked `meta: {personal_data: true}`;
- `models/staging/_staging__models.yml`: each staging model's grain, columns and key
  tests (unique + not_null, or a composite-key test).

`tests/test_dbt_docs.py` fails when a committed file differs from this rendering;
regenerate both with `python -m pipelines.model.dbt_docs` (`make docs` also builds dbt's site).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from pipelines.core.contracts import (
    CONTRACTS,
    Column,
    Contract,
    Kind,
    Privacy,
)

STAGING_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging"
SOURCES_FILE = STAGING_DIR / "_lake__sources.yml"
MODELS_FILE = STAGING_DIR / "_staging__models.yml"

HEADER = (
    "# Generated from pipelines/core/contracts.py by `python -m pipelines.model.dbt_docs`:\n"
    "# edit the contracts, not this file (tests/test_dbt_docs.py checks they agree).\n"
)
_LAKE = "{{ env_var('CLINICOPS_LAKE', 'var/lake') }}"
# The ledger is the only door: only deliveries it records as loaded are read, so the
# partition of a landing killed before its ledger entry never reaches a build.
LAKE_LOCATION = (
    f"(select * from read_parquet('{_LAKE}/raw/{{name}}/*/*.parquet', union_by_name = true) "
    f"where _delivery_id in (select delivery_id from read_parquet('{_LAKE}/ledger/*.parquet') "
    "where status = 'loaded'))"
)
# What an X12 835 reports beyond transactions (pipelines/land/x12.py), landed beside them.
REMITTANCE_TABLE = {
    "name": "remittance",
    "description": "What an X12 835 reports beyond transactions (pipelines/land/x12.py): the "
    "patient's share of a claim (CAS group PR) and provider-level adjustments (PLB), one row "
    "per figure, with delivery, file and segment.",
    "columns": [
        {"name": "kind", "description": "patient_responsibility or provider_adjustment."},
        {"name": "claim_id", "description": "The claim (CLP01); null for a PLB adjustment."},
        {"name": "charge_id", "description": "The line (REF*6R) when the figure is line-level."},
        {"name": "posted_date", "description": "The payment's effective date (BPR16)."},
        {
            "name": "reason_code",
            "description": "PR-<CARC> for patient responsibility (PR-2 coinsurance), or the "
            "PLB adjustment code (L6 interest, WO, ...).",
        },
        {
            "name": "amount",
            "description": "As the 835 reports it: a PLB amount below 0 adds to the payment.",
        },
        {"name": "payer_id", "description": "The payer (N1*PR / REF*2U / TRN03)."},
        {"name": "trace_number", "description": "The payment's trace number (TRN02)."},
        {"name": "_line", "description": "The segment's position in the file."},
        {"name": "_delivery_id", "description": "The delivery that brought the 835."},
        {"name": "_source_file", "description": "The 835 file's name."},
    ],
}

# Columns landing adds to every raw row (pipelines/core/home.py META_SCHEMA), as the lake
# names them and as staging renames them.
LAKE_META = {
    "_delivery_id": "The delivery that brought the row (ledger.delivery_id); deliveries "
    "apply in this order.",
    "_source_file": "The delivered file's name, for tracing a figure back to its export.",
    "_line": "The row's line in its file (the header is line 1); a later line with the "
    "same key wins.",
    "_received_at": "When landing received the file.",
    "_extra": "JSON object of the columns the contract does not name: kept, not used.",
    "_snapshot": "True when the delivery was a full snapshot of its entity: keys missing "
    "from the newest snapshot are deleted downstream (the lake keeps them).",
}
STAGING_META = {
    "delivery_id": LAKE_META["_delivery_id"],
    "source_file": LAKE_META["_source_file"],
    "source_line": LAKE_META["_line"],
}


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    return text + ("" if text.endswith(".") else ".")


def _column_doc(col: Column) -> str:
    parts = [_sentence(col.description)]
    if col.enum:
        parts.append("One of " + ", ".join(col.enum) + " (lower-cased at landing).")
    if col.kind is Kind.CODE:
        parts.append("Trimmed and upper-cased at landing.")
    if col.kind is Kind.MONTH:
        parts.append("Stored as the month's first day.")
    if col.kind is Kind.TIMESTAMP:
        parts.append("Wall-clock time as written; its UTC offset, if any, is the next column.")
    if col.privacy is Privacy.HASH:
        parts = [
            f"Keyed HMAC-SHA256 of {col.name} (personal data): the same {col.name} gives the "
            "same key in every delivery, and the raw id never reaches the lake."
        ]
    return " ".join(p for p in parts if p)


def _offset_doc(col: Column) -> str:
    return (
        f"UTC offset in minutes written with {col.name}, null when none; dbt converts "
        "to the location's timezone with it."
    )


def _columns(contract: Contract) -> list[dict]:
    """The lake columns of a contract in order: dropped personal data is not there."""
    out: list[dict] = []
    for col in contract.columns:
        if col.privacy is Privacy.DROP:
            continue
        entry: dict = {"name": col.lake_name, "description": _column_doc(col)}
        if col.privacy is Privacy.HASH:
            entry["meta"] = {"personal_data": True}
        out.append(entry)
        if col.kind is Kind.TIMESTAMP:
            out.append({"name": col.offset_name, "description": _offset_doc(col)})
    return out


def _dropped(contract: Contract) -> str:
    names = [c.name for c in contract.columns if c.privacy is Privacy.DROP]
    if not names:
        return ""
    return f" {', '.join(names)} (personal data) is dropped at landing and is not here."


def model_name(contract: Contract) -> str:
    return f"stg_{contract.source}__{contract.entity}"


def render_sources() -> str:
    tables = []
    for contract in CONTRACTS:
        cols = _columns(contract)
        cols += [{"name": name, "description": doc} for name, doc in LAKE_META.items()]
        tables.append(
            {
                "name": contract.entity,
                "description": _sentence(contract.description)
                + f" Every version of every {'+'.join(contract.key)} delivered."
                + _dropped(contract),
                "columns": cols,
            }
        )
    doc = {
        "version": 2,
        "sources": [
            {
                "name": "lake",
                "description": "Contract-typed rows written by landing (pipelines/land), one "
                "immutable Parquet file per entity and delivery. Every version of every key "
                "is here; staging picks the newest. Personal data is already hashed "
                "(patient_key) or dropped (full_name). The ledger is the only door: only "
                "deliveries it records as loaded are read.",
                "meta": {"external_location": LAKE_LOCATION},
                "tables": [*tables, REMITTANCE_TABLE],
            }
        ],
    }
    return HEADER + "\n" + _dump(doc)


def _key_tests(contract: Contract) -> tuple[list[dict], dict[str, list]]:
    """Model-level and column-level tests of the natural key."""
    if len(contract.key) == 1:
        return [], {contract.key[0]: ["unique", "not_null"]}
    model_tests = [
        {
            "unique_combination_of_columns": {
                "arguments": {"combination_of_columns": list(contract.key)}
            }
        }
    ]
    return model_tests, {name: ["not_null"] for name in contract.key}


def render_models() -> str:
    models = []
    for contract in CONTRACTS:
        model_tests, column_tests = _key_tests(contract)
        cols = []
        for entry in _columns(contract):
            tests = column_tests.get(entry["name"])
            if tests:
                entry = {**entry, "data_tests": tests}
            cols.append(entry)
        cols += [{"name": name, "description": doc} for name, doc in STAGING_META.items()]
        model: dict = {
            "name": model_name(contract),
            "description": _sentence(contract.description)
            + f" Grain: one row per {' + '.join(contract.key)}, the newest version of the key "
            "(latest delivery, then latest line); when the entity is delivered as a full "
            "snapshot, a key missing from the newest snapshot is left out." + _dropped(contract),
            "columns": cols,
        }
        if model_tests:
            model["data_tests"] = model_tests
        if any(c.privacy is Privacy.HASH for c in contract.columns):
            model["meta"] = {"personal_data": True}
        models.append(model)
    return HEADER + "\n" + _dump({"version": 2, "models": models})


def _dump(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=88)


def main() -> None:
    SOURCES_FILE.write_text(render_sources(), encoding="utf-8")
    MODELS_FILE.write_text(render_models(), encoding="utf-8")
    print(f"wrote {SOURCES_FILE} and {MODELS_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
