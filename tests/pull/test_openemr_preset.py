"""mappings/sql/openemr.yaml against a real MariaDB holding OpenEMR's own tables (the CREATE
TABLE statements of OpenEMR's published schema, fixtures/openemr_schema.sql) and a
small practice written into them; pulled, landed and built to kpi_values, whose figures
are worked out by hand below.

The practice, January 2026 (weeks start Monday 5 and Monday 19):
- appointments: Mon 5th, new patient 101 with Dr Rivera, checked out (>): completed;
  Mon 5th, patient 102, no status but an encounter that day: completed; Tue 6th,
  patient 103 with Dr Okafor, no show (?); Tue 6th, patient 104, no status and no
  encounter: no_show; Wed 7th 09:00, patient 105, cancelled (x) at Tue 6th 15:00, within
  24 h: a late cancel; a lunch block (no patient): not an appointment; 11 Jan 2027,
  patient 106: scheduled.
  Week of the 5th: completed 2, no_show 2 -> no_show_rate 2/4 = 0.5; late_cancel_rate
  1/(2+2+1) = 0.2.
- charges (service date = encounter date, 5th): 99203 150.00 and 36415 20.00 billed to
  Acme PPO (commercial), 99213 100.00 to Medicare; a diagnosis line and a deleted line
  are not charges. gross_charges week of the 5th = 270; payer_mix January: commercial
  170/270, medicare 100/270.
- transactions: Acme pays 100.00 and 20.00 and adjusts 30.00 (CO-45), posted the 20th;
  patient 102 pays 15.00, posted the 21st. payments week of the 19th = 135.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
import yaml

from pipelines.core.home import Home
from pipelines.land.ledger import ledger as landing_ledger
from pipelines.pull import check, pull_source
from pipelines.pull.base import PullContext
from pipelines.pull.ledger import PullLedger
from pipelines.pull.sql import connection
from tests.pull.conftest import config_for, inbox_files
from tests.pull.servers import start_mariadb, stop

SCHEMA = Path(__file__).parent / "fixtures" / "openemr_schema.sql"
PRESET = Path(__file__).resolve().parents[2] / "mappings" / "sql" / "openemr.yaml"
READER_PASSWORD = "openemr-reader-pw"

PRACTICE = """
INSERT INTO facility (id, name, service_location) VALUES
  (3, 'Main Street Clinic', 1), (4, 'North Clinic', 1), (9, 'Billing Office', 0);
INSERT INTO users (id, username, authorized, fname, lname, title, npi, specialty,
                   facility_id, active) VALUES
  (1, 'admin', 0, 'Admin', 'User', '', '', '', 3, 1),
  (5, 'arivera', 1, 'Ana', 'Rivera', 'Dr.', '1234567893', 'family_medicine', 3, 1),
  (6, 'bokafor', 1, 'Ben', 'Okafor', 'Dr.', '', 'internal_medicine', 4, 1);
INSERT INTO insurance_companies (id, name, freeb_type) VALUES
  (1, 'Medicare', 2), (2, 'Acme PPO', 11), (3, 'State Medicaid', 3);
INSERT INTO openemr_postcalendar_events
  (pc_eid, pc_catid, pc_multiple, pc_aid, pc_pid, pc_title, pc_time, pc_eventDate,
   pc_endDate, pc_duration, pc_startTime, pc_endTime, pc_apptstatus, pc_facility) VALUES
  (11, 10, 0, '5', '101', 'New Patient', '2025-12-20 10:00:00', '2026-01-05', '2026-01-05',
   1800, '09:00:00', '09:30:00', '>', 3),
  (12, 9, 0, '5', '102', 'Established', '2025-12-22 11:00:00', '2026-01-05', '2026-01-05',
   900, '10:00:00', '10:15:00', '-', 3),
  (13, 9, 0, '6', '103', 'Established', '2025-12-23 09:00:00', '2026-01-06', '2026-01-06',
   900, '09:00:00', '09:15:00', '?', 4),
  (14, 9, 0, '6', '104', 'Established', '2025-12-23 09:30:00', '2026-01-06', '2026-01-06',
   900, '11:00:00', '11:15:00', '-', 4),
  (15, 9, 0, '5', '105', 'Established', '2026-01-06 15:00:00', '2026-01-07', '2026-01-07',
   900, '09:00:00', '09:15:00', 'x', 3),
  (16, 8, 0, '5', '', 'Lunch', '2025-12-01 08:00:00', '2026-01-05', '2026-01-05',
   3600, '12:00:00', '13:00:00', '-', 3),
  (17, 9, 0, '6', '106', 'Established', '2026-01-02 08:00:00', '2027-01-11', '2027-01-11',
   900, '09:00:00', '09:15:00', '-', 4);
INSERT INTO form_encounter (id, date, facility_id, pid, encounter, provider_id) VALUES
  (1, '2026-01-05 09:05:00', 3, 101, 9001, 5),
  (2, '2026-01-05 10:10:00', 3, 102, 9002, 5);
INSERT INTO billing (id, date, code_type, code, pid, provider_id, encounter, billed,
                     activity, payer_id, bill_date, modifier, units, fee) VALUES
  (1, '2026-01-06 12:00:00', 'CPT4', '99203', 101, 5, 9001, 1, 1, 2, '2026-01-07 08:00:00',
   '', 1, 150.00),
  (2, '2026-01-06 12:00:00', 'CPT4', '36415', 101, 5, 9001, 1, 1, 2, '2026-01-07 08:00:00',
   '', 1, 20.00),
  (3, '2026-01-05 16:00:00', 'CPT4', '99213', 102, 5, 9002, 1, 1, 1, '2026-01-08 08:00:00',
   '25', 1, 100.00),
  (4, '2026-01-05 16:00:00', 'ICD10', 'E11.9', 102, 5, 9002, 1, 1, 1, '2026-01-08 08:00:00',
   '', 1, 0.00),
  (5, '2026-01-05 16:00:00', 'CPT4', '99212', 102, 5, 9002, 0, 0, 1, NULL, '', 1, 80.00);
INSERT INTO ar_session (session_id, payer_id, user_id, reference, check_date, deposit_date,
                        pay_total, modified_time, global_amount, payment_type, description,
                        adjustment_code, post_to_date, patient_id, payment_method) VALUES
  (1, 2, 1, 'EFT-778', '2026-01-19', '2026-01-20', 120.00, '2026-01-20 10:00:00', 0,
   'insurance', '', 'insurance_payment', '2026-01-20', 0, 'electronic'),
  (2, 0, 1, 'CASH', '2026-01-21', '2026-01-21', 15.00, '2026-01-21 09:00:00', 0,
   'patient', '', 'patient_payment', '2026-01-21', 102, 'cash');
INSERT INTO ar_activity (pid, encounter, sequence_no, code, modifier, payer_type, post_time,
                         post_user, session_id, memo, pay_amount, adj_amount, modified_time,
                         follow_up, follow_up_note, account_code) VALUES
  (101, 9001, 1, '99203', '', 1, '2026-01-20 10:00:00', 1, 1, '', 100.00, 0,
   '2026-01-20 10:00:00', '', '', 'IPP'),
  (101, 9001, 2, '99203', '', 1, '2026-01-20 10:00:00', 1, 1, 'Adjust code 45', 0, 30.00,
   '2026-01-20 10:00:00', '', '', 'IA'),
  (101, 9001, 3, '36415', '', 1, '2026-01-20 10:00:00', 1, 1, '', 20.00, 0,
   '2026-01-20 10:00:00', '', '', 'IPP'),
  (102, 9002, 1, '99213', '', 0, '2026-01-21 09:00:00', 1, 2, '', 15.00, 0,
   '2026-01-21 09:00:00', '', '', 'PP'),
  (102, 9002, 2, '', '', 0, '2026-01-21 09:00:00', 1, 2, 'statement sent', 0, 0,
   '2026-01-21 09:00:00', '', '', 'PP');
"""


@pytest.fixture(scope="module")
def openemr(tmp_path_factory):
    server = start_mariadb(tmp_path_factory.mktemp("mariadb") / "server")
    try:
        admin = server.admin()
        with admin.cursor() as cur:
            cur.execute("CREATE DATABASE openemr")
            cur.execute(f"CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY '{READER_PASSWORD}'")
            cur.execute("GRANT SELECT ON openemr.* TO 'reader'@'127.0.0.1'")
            cur.execute("CREATE USER 'writer'@'127.0.0.1' IDENTIFIED BY 'writer-pw'")
            cur.execute("GRANT ALL ON openemr.* TO 'writer'@'127.0.0.1'")
        admin.close()
        client = shutil.which("mariadb") or "mysql"
        for script in (SCHEMA.read_text(), PRACTICE):
            subprocess.run(
                [client, f"--socket={server.socket}", "-uroot", "openemr"],
                input=script, text=True, check=True, capture_output=True,
            )  # fmt: skip
        yield server
    finally:
        stop(server.process)


def source(server, user: str = "reader") -> dict:
    return {
        "openemr": {
            "kind": "sql",
            "url": server.url(user, "openemr"),
            "password": "file:openemr_db",
            "preset": "openemr",
        }
    }


def test_every_query_of_the_preset_runs_on_openemrs_schema(home: Home, openemr):
    """providers too, which this contract set does not land yet (the preset keeps it)."""
    (home.secrets / "openemr_db").write_text(READER_PASSWORD)
    preset = yaml.safe_load(PRESET.read_text())["entities"]
    src = config_for(source(openemr)).pull.sources["openemr"]
    ctx = PullContext("openemr", home, home.root / "inbox", PullLedger(home), print)
    with connection(ctx, src) as conn:
        providers = conn.execute(sa.text(preset["providers"]["query"])).mappings().all()
    assert [
        (p["provider_id"], p["display_name"], p["npi"], p["location_id"]) for p in providers
    ] == [
        ("5", "Dr. Ana Rivera", "1234567893", "3"),
        ("6", "Dr. Ben Okafor", None, "4"),
    ]


def test_sources_test_on_openemr(home: Home, openemr):
    (home.secrets / "openemr_db").write_text(READER_PASSWORD)
    lines = check(home, config_for(source(openemr)))["openemr"]
    assert isinstance(lines, list), lines
    assert lines[0].startswith("connected read-only to mysql+pymysql://reader:***@127.0.0.1")
    assert "appointments: query runs, 11 columns" in lines
    (home.secrets / "openemr_db").write_text("Xq9-not-it")
    refused = check(home, config_for(source(openemr)))["openemr"]
    assert "auth refused" in refused and "Xq9-not-it" not in refused


def test_the_mariadb_session_is_read_only_for_a_user_who_may_write(home: Home, openemr):
    (home.secrets / "openemr_db").write_text("writer-pw")
    src = config_for(source(openemr, "writer")).pull.sources["openemr"]
    ctx = PullContext("openemr", home, home.root / "inbox", PullLedger(home), print)
    with (
        connection(ctx, src) as conn,
        pytest.raises(sa.exc.OperationalError, match="READ ONLY"),
        conn.begin(),
    ):
        conn.exec_driver_sql("DELETE FROM billing")


def test_openemr_pulled_landed_and_built_to_kpi_values(home: Home, openemr, tmp_path):
    (home.secrets / "openemr_db").write_text(READER_PASSWORD)
    result = pull_source(home, config_for(source(openemr)), "openemr")
    assert result.ok, result.error
    assert sorted(p.name.split("_2")[0] for p in result.files) == [
        "appointments", "charges", "claims", "locations", "payers", "providers", "transactions",
    ]  # fmt: skip
    assert pull_source(home, config_for(source(openemr)), "openemr").files == []
    assert len(inbox_files(home)) == 7

    built = subprocess.run(
        [str(Path(sys.executable).with_name("clinicops")), "run", "--home", str(home.root),
         "--inbox", str(home.root / "inbox"), "--as-of", "2026-01-31"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-4000:]
    landed = landing_ledger(home)
    assert set(landed["status"]) == {"loaded"} and landed["rows_rejected"].sum() == 0
    # 6 appointments (not the lunch block), 3 charges, 2 claims, 4 transactions, and the
    # 2 authorised users as providers (the admin is not one).
    assert dict(zip(landed["entity"], landed["rows_loaded"], strict=True)) == {
        "appointments": 6, "charges": 3, "claims": 2, "locations": 2, "payers": 4,
        "providers": 2, "transactions": 4,
    }  # fmt: skip
    with duckdb.connect(str(home.serving), read_only=True) as con:
        rows = con.sql(
            "select period_grain, period_start::varchar, kpi, value, numerator, denominator "
            "from marts.kpi_values where scope = 'practice' and kpi in ('no_show_rate', "
            "'completed_visits', 'late_cancel_rate', 'gross_charges', 'payments', "
            "'payer_mix_commercial', 'payer_mix_medicare')"
        ).fetchall()
    kpis = {(grain, start, kpi): (value, num, den) for grain, start, kpi, value, num, den in rows}
    assert kpis[("week", "2026-01-05", "completed_visits")][0] == 2
    assert kpis[("week", "2026-01-05", "no_show_rate")] == (0.5, 2, 4)
    assert kpis[("week", "2026-01-05", "late_cancel_rate")] == (0.2, 1, 5)
    assert kpis[("week", "2026-01-05", "gross_charges")][0] == 270
    assert kpis[("week", "2026-01-19", "payments")][0] == 135
    assert kpis[("month", "2026-01-01", "payer_mix_commercial")][0] == pytest.approx(170 / 270)
    assert kpis[("month", "2026-01-01", "payer_mix_medicare")][0] == pytest.approx(100 / 270)
