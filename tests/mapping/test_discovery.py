"""Issue 21, items 6, 7 and 9: which inbox entries are taken, and every other one named."""

from __future__ import annotations

import os
import threading
import time

import pytest

from pipelines.core.config import Config
from pipelines.land import land_inbox
from pipelines.land.ledger import ledger
from pipelines.land.read import scan
from tests.landing.conftest import TEST_KEY, csv_text, row


def _reasons(inbox, settle=0):
    found = scan(inbox, settle)
    return {n.relative: (n.reason, n.waiting) for n in found.not_landed}, found


def test_a_folder_named_like_a_file_a_fifo_and_a_dangling_link_are_named(inbox):
    (inbox / "scheduling" / "appointments.csv").mkdir(parents=True)
    os.mkfifo(inbox / "scheduling" / "appointments_2.csv")
    (inbox / "billing").mkdir()
    (inbox / "billing" / "charges.csv").symlink_to(inbox / "billing" / "gone.csv")
    reasons, found = _reasons(inbox)
    assert reasons == {
        "scheduling/appointments.csv": ("is a folder, not a file", False),
        "scheduling/appointments_2.csv": ("is a FIFO (named pipe), not a regular file", False),
        "billing/charges.csv": ("is a symbolic link to nothing (dangling)", False),
    }
    assert found.files == []


def test_a_link_leaving_the_inbox_is_refused_and_one_inside_is_followed(inbox, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text(csv_text([row("payers")]))
    (inbox / "billing").mkdir()
    (inbox / "billing" / "payers.csv").symlink_to(outside)
    (inbox / "reference").mkdir()
    real = inbox / "reference" / "locations_real.csv"
    real.write_text(csv_text([row("locations")]))
    (inbox / "reference" / "locations.csv").symlink_to(real)
    reasons, found = _reasons(inbox)
    assert reasons == {
        "billing/payers.csv": ("is a symbolic link to a place outside the inbox; refused", False)
    }
    assert sorted(d.relative for d in found.files) == [
        "reference/locations.csv",
        "reference/locations_real.csv",
    ]


def test_partial_names_wait(inbox):
    (inbox / "billing").mkdir()
    (inbox / "billing" / "charges.csv.part").write_text("x")
    (inbox / "billing" / "claims.csv.tmp").write_text("x")
    reasons, found = _reasons(inbox)
    assert all(waiting for _reason, waiting in reasons.values())
    assert set(reasons) == {"billing/charges.csv.part", "billing/claims.csv.tmp"}
    assert found.files == []


def test_a_file_still_being_written_is_not_taken(inbox):
    (inbox / "billing").mkdir()
    growing = inbox / "billing" / "charges.csv"
    growing.write_text(csv_text([row("charges")]))
    steady = inbox / "billing" / "claims.csv"
    steady.write_text(csv_text([row("claims")]))
    old = time.time() - 60
    os.utime(steady, (old, old))

    def append():
        time.sleep(0.3)
        with open(growing, "a") as fh:
            fh.write("C2,CL1\n")

    writer = threading.Thread(target=append)
    writer.start()
    reasons, found = _reasons(inbox, settle=1.0)
    writer.join()
    assert [d.relative for d in found.files] == ["billing/claims.csv"]
    reason, waiting = reasons["billing/charges.csv"]
    assert waiting and "is still being written" in reason


def test_refused_entries_are_ledgered_and_waiting_ones_are_not(inbox, home):
    (inbox / "scheduling" / "appointments.csv").mkdir(parents=True)
    (inbox / "scheduling" / "slots.csv.part").write_text("x")
    (inbox / "mystery.csv").write_text("a\n1\n")
    report = land_inbox(inbox, home, Config(landing={"settle_seconds": 0}), pseudonym_key=TEST_KEY)
    assert [n.relative for n in report.refused] == ["scheduling/appointments.csv"]
    assert [f.status for f in report.files] == ["failed"]
    failed = ledger(home).filter(ledger(home)["status"] == "failed")
    assert sorted(failed["error"].to_list()) == [
        "mystery.csv: unknown entity: the file name matches no route and does not start with "
        "one of appointments, budget, charges, claims, gl_expenses, locations, payers, "
        "provider_slots, providers, staff, timesheets, transactions",
        "scheduling/appointments.csv: is a folder, not a file",
    ]


@pytest.mark.parametrize("settle", [0.0, 1.0])
def test_old_files_are_taken_without_waiting(inbox, settle):
    (inbox / "billing").mkdir()
    path = inbox / "billing" / "claims.csv"
    path.write_text(csv_text([row("claims")]))
    old = time.time() - 60
    os.utime(path, (old, old))
    started = time.monotonic()
    _reasons_, found = _reasons(inbox, settle)
    assert time.monotonic() - started < 0.5
    assert [d.relative for d in found.files] == ["billing/claims.csv"]
