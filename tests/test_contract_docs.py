from pathlib import Path

from pipelines.land.contract_docs import render

DOCS = Path(__file__).resolve().parent.parent / "docs" / "contracts.md"


def test_committed_contract_docs_match_the_contracts():
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "docs/contracts.md is stale: run "
        "`python -m pipelines.land.contract_docs > docs/contracts.md`"
    )


def test_every_personal_column_is_documented_as_such():
    text = render()
    assert text.count("personal data: stored as `patient_key`") == 2
    assert "personal data: dropped at landing" in text
