"""docs/contracts.md, rendered from pipelines/core/contracts.py so the docs cannot drift.

`tests/test_contract_docs.py` fails when the committed file differs from this rendering;
regenerate it with `python -m pipelines.land.contract_docs > docs/contracts.md`.
"""

from __future__ import annotations

from pipelines.core.contracts import (
    CONTRACTS,
    Column,
    Kind,
    Privacy,
)
from pipelines.land.docs import MAPPINGS


def _rules(col: Column) -> str:
    parts = []
    if col.enum:
        parts.append("one of " + ", ".join(col.enum))
    if col.min_value is not None:
        parts.append(f"{'>' if col.min_exclusive else '≥'} {col.min_value:g}")
    if col.max_value is not None:
        parts.append(f"≤ {col.max_value:g}")
    if col.length is not None:
        parts.append(f"{col.length} characters")
    if col.kind is Kind.CODE:
        parts.append("trimmed, upper-cased")
    if col.privacy is Privacy.HASH:
        parts.append(f"personal data: stored as `{col.lake_name}` (HMAC-SHA256)")
    if col.privacy is Privacy.DROP:
        parts.append("personal data: dropped at landing")
    return "; ".join(parts)


def render() -> str:
    lines = [
        "# Export contracts",
        "",
        "Generated from `pipelines/core/contracts.py` (`python -m pipelines.land.contract_docs`).",
        "The prose rules (delivery order, re-delivery, orphans) are in the shared",
        "CONTRACTS.md; this page is what landing enforces.",
        "",
    ]
    for contract in CONTRACTS:
        lines += [
            f"## {contract.entity} ({contract.source})",
            "",
            contract.description,
            "",
            f"Key: {' + '.join(contract.key)}",
            "",
            "| column | type | required | rules | meaning |",
            "|---|---|---|---|---|",
        ]
        for col in contract.columns:
            required = "yes" if col.required else "no"
            lines.append(
                f"| {col.name} | {col.kind.value} | {required} | {_rules(col)} | "
                f"{col.description} |"
            )
        for rule in contract.row_rules:
            lines.append(f"\nRow rule: {rule.message} → rejected.")
        lines.append("")
    lines.append(MAPPINGS)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
