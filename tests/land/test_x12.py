"""X12 835 remittances landed as transactions: hand-written edge cases, real landing."""

from __future__ import annotations

import polars as pl

from pipelines.core.home import Home
from pipelines.land import ledger
from tests.land.remits import patient, remittance, write


def _transactions(home: Home) -> pl.DataFrame:
    frame = pl.read_parquet(home.raw / "transactions" / "*" / "*.parquet")
    return frame.filter(pl.col("_delivery_id") != "000000").sort("_delivery_id", "_line")


def _remittance(home: Home) -> pl.DataFrame:
    frame = pl.read_parquet(home.raw / "remittance" / "*" / "*.parquet")
    return frame.filter(pl.col("_delivery_id") != "000000")


def _rows(frame: pl.DataFrame) -> list[tuple]:
    return sorted(
        frame.select("claim_id", "charge_id", "transaction_type", "amount", "reason_code").rows(),
        key=str,
    )


def test_a_denied_claim_is_one_denial_of_amount_zero(inbox, home, land):
    write(
        inbox,
        "era_denial.835",
        remittance(["CLP*CL1*4*120*0**12*PCN1*11*1", "CAS*CO*16*120", patient("CL1")], paid="0"),
    )
    report = land()
    assert not report.failed, report.failed[0].error if report.failed else ""
    tx = _transactions(home)
    assert _rows(tx) == [("CL1", None, "denial", 0.0, "CO-16")]
    assert tx["posted_date"].cast(pl.String).to_list() == ["2026-01-20"]


def test_a_partial_payment_with_co45_and_pr2(inbox, home, land):
    claim = [
        "CLP*CL1*1*200*130*20*12*PCN1*11*1",
        patient("CL1"),
        "SVC*HC:99213*200*130**1",
        "DTM*472*20260105",
        "CAS*CO*45*50",
        "CAS*PR*2*20",
        "REF*6R*C1",
    ]
    write(inbox, "era_partial.835", remittance(claim, paid="130"))
    report = land()
    assert not report.failed, report.failed[0].error if report.failed else ""
    assert _rows(_transactions(home)) == sorted(
        [
            ("CL1", "C1", "payer_payment", 130.0, None),
            ("CL1", "C1", "contractual_adjustment", 50.0, "CO-45"),
        ],
        key=str,
    )
    # The patient's share is reported, never a transaction.
    pr = _remittance(home).select("kind", "claim_id", "charge_id", "reason_code", "amount")
    assert pr.rows() == [("patient_responsibility", "CL1", "C1", "PR-2", 20.0)]
    entry = ledger.ledger(home).filter(pl.col("status") == "loaded").row(0, named=True)
    assert (entry["entity"], entry["rows_received"], entry["rows_loaded"]) == ("transactions", 2, 2)
    # The patient's name and member id in NM1*QC stop at the 835.
    lake_bytes = b"".join(p.read_bytes() for p in home.lake.rglob("*.parquet"))
    assert b"SECRETNAME" not in lake_bytes and b"MEMBER-CL1" not in lake_bytes


def test_a_line_paid_zero_with_a_denial_reason_is_a_line_denial(inbox, home, land):
    claim = [
        "CLP*CL1*1*300*100**12*PCN1*11*1",
        patient("CL1"),
        "SVC*HC:99213*200*100**1",
        "CAS*CO*45*100",
        "REF*6R*C1",
        "SVC*HC:36415*100*0**1",
        "CAS*CO*97*100",
        "REF*6R*C2",
    ]
    write(inbox, "era_line.835", remittance(claim))
    assert not land().failed
    assert _rows(_transactions(home)) == sorted(
        [
            ("CL1", "C1", "payer_payment", 100.0, None),
            ("CL1", "C1", "contractual_adjustment", 100.0, "CO-45"),
            ("CL1", "C2", "denial", 0.0, "CO-97"),
        ],
        key=str,
    )


def test_a_reversal_is_a_refund_and_its_repayment_a_payment(inbox, home, land):
    claims = [
        "CLP*CL1*22*200*-150**12*PCN1*11*1",
        "CAS*CO*45*-50",
        patient("CL1"),
        "CLP*CL1*1*200*160**12*PCN2*11*1",
        "CAS*CO*45*40",
        patient("CL1"),
    ]
    write(inbox, "era_reversal.835", remittance(claims, paid="10"))
    assert not land().failed
    assert _rows(_transactions(home)) == sorted(
        [
            ("CL1", None, "refund", 150.0, None),
            ("CL1", None, "refund", 50.0, "CO-45"),
            ("CL1", None, "payer_payment", 160.0, None),
            ("CL1", None, "contractual_adjustment", 40.0, "CO-45"),
        ],
        key=str,
    )
    # Money is never negative: the sign is the type's.
    assert (_transactions(home)["amount"] >= 0).all()


def test_a_claim_split_over_two_835s_lands_both_parts(inbox, home, land):
    first = ["CLP*CL1*2*300*100**12*PCN1*11*1", patient("CL1"), "SVC*HC:99213*200*100**1",
             "CAS*CO*45*100", "REF*6R*C1"]  # fmt: skip
    second = ["CLP*CL1*2*300*60**12*PCN1*11*1", patient("CL1"), "SVC*HC:36415*100*60**1",
              "CAS*CO*45*40", "REF*6R*C2"]  # fmt: skip
    write(inbox, "era_1.835", remittance(first, trace="EFT1"))
    write(inbox, "era_2.835", remittance(second, trace="EFT2", posted="20260127"))
    report = land()
    assert [f.status for f in report.files] == ["loaded", "loaded"]
    tx = _transactions(home)
    assert tx["transaction_id"].n_unique() == 4
    paid = tx.filter(pl.col("transaction_type") == "payer_payment")
    assert paid.select("charge_id", pl.col("posted_date").cast(pl.String)).rows() == [
        ("C1", "2026-01-20"),
        ("C2", "2026-01-27"),
    ]


def test_plb_interest_is_landed_for_data_quality_not_attributed(inbox, home, land):
    claim = ["CLP*CL1*1*100*100**12*PCN1*11*1", patient("CL1")]
    write(
        inbox,
        "era_plb.835",
        remittance(claim, paid="105.25", plb=["PLB*1234567893*20261231*L6:INT1*-5.25"]),
    )
    assert not land().failed
    assert _rows(_transactions(home)) == [("CL1", None, "payer_payment", 100.0, None)]
    plb = _remittance(home).filter(pl.col("kind") == "provider_adjustment")
    assert plb.select("claim_id", "reason_code", "amount", "trace_number").rows() == [
        (None, "L6", -5.25, "EFT1001")
    ]


def test_an_835_for_an_unknown_claim_is_loaded_as_an_orphan(inbox, home, land):
    write(inbox, "era_orphan.835", remittance(["CLP*NOSUCHCLAIM*1*50*50**12*P*11*1", patient("X")]))
    report = land()
    assert report.files[0].status == "loaded"
    assert report.files[0].rows_rejected == 0
    assert _transactions(home)["claim_id"].to_list() == ["NOSUCHCLAIM"]


def test_a_malformed_envelope_fails_its_file_and_the_rest_lands(inbox, home, land):
    good = remittance(["CLP*CL1*1*50*50**12*P*11*1", patient("CL1")], trace="GOOD")
    wrong_count = good.replace("SE*14*0001", "SE*9*0001")
    assert wrong_count != good
    write(inbox, "era_a_bad_count.835", wrong_count)
    write(inbox, "era_b_no_isa.835", good.split("\n", 1)[1])
    write(inbox, "era_c_good.835", good)
    report = land()
    by_name = {f.file_name: f for f in report.files}
    bad = by_name["era_a_bad_count.835"]
    assert bad.status == "failed"
    assert "era_a_bad_count.835" in bad.error and "segment" in bad.error and "SE" in bad.error
    assert by_name["era_b_no_isa.835"].status == "failed"
    assert "ISA" in by_name["era_b_no_isa.835"].error
    assert by_name["era_c_good.835"].status == "loaded"
    assert _transactions(home)["claim_id"].to_list() == ["CL1"]


def test_a_re_delivered_835_changes_nothing_and_a_corrected_one_replaces(inbox, home, land):
    claim = ["CLP*CL1*1*200*120**12*PCN1*11*1", "CAS*CO*45*80", patient("CL1")]
    write(inbox, "era_1.835", remittance(claim))
    land()
    # The same remittance in a new envelope, then corrected (a different adjustment).
    write(inbox, "era_2.835", remittance(claim, control="000000002"))
    corrected = ["CLP*CL1*1*200*120**12*PCN1*11*1", "CAS*CO*45*70", patient("CL1")]
    write(inbox, "era_3.835", remittance(corrected, control="000000003"))
    report = land()
    assert [f.status for f in report.files] == ["duplicate", "loaded", "loaded"]
    tx = _transactions(home)
    assert tx["transaction_id"].n_unique() == 2  # the same two ids in every delivery
    newest = tx.sort("_delivery_id").group_by("transaction_id").last()
    adjustment = newest.filter(pl.col("transaction_type") == "contractual_adjustment")
    assert adjustment["amount"].to_list() == [70.0]


def test_an_835_handed_out_as_text_is_recognised_by_its_isa(inbox, home, land):
    text = remittance(["CLP*CL1*1*50*50**12*P*11*1", patient("CL1")])
    write(inbox, "ERA_20260120.txt", "\n" + text)
    write(inbox, "notes.txt", "not an interchange")
    report = land()
    by_name = {f.file_name: f for f in report.files}
    assert by_name["ERA_20260120.txt"].status == "loaded"
    assert by_name["ERA_20260120.txt"].entity == "transactions"
    assert by_name["notes.txt"].status == "failed"
    assert _transactions(home)["claim_id"].to_list() == ["CL1"]
