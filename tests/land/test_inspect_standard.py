"""`clinicops inspect` recognises the standard formats: it reads them with landing's own
readers and says what they land as, with no mapping to draft."""

from __future__ import annotations

from pipelines.core.config import Config
from pipelines.land.inspect import draft_route, profile
from tests.land.remits import patient, remittance, write


def test_an_835_is_profiled_as_the_transactions_it_lands_as(tmp_path):
    path = write(
        tmp_path,
        "era_0001.835",
        remittance(["CLP*CL1*1*50*50**12*P*11*1", patient("CL1")], trace="T1"),
    )
    found = profile(path, Config())
    assert (found.standard, found.entity, found.error) == ("x12", "transactions", None)
    assert found.rows == 1
    columns = {c.name: c for c in found.columns}
    assert columns["claim_id"].values == ["CL1"]
    assert columns["transaction_type"].values == ["payer_payment"]
    assert "lands as transactions without a route" in draft_route(found, "billing")


def test_a_fhir_file_of_a_type_that_maps_to_nothing_says_why(tmp_path):
    path = tmp_path / "Patient.ndjson"
    path.write_text('{"resourceType": "Patient", "id": "p1"}\n')
    found = profile(path, Config())
    assert found.standard == "fhir" and found.entity is None
    assert found.error and "Patient" in found.error
