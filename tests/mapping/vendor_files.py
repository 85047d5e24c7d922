"""Vendor-shaped exports, written as the systems write them, with figures computed by hand.

Used by the preset tests (test_presets_e2e.py) and the dry-run and inspect tests.
"""

from __future__ import annotations

from pathlib import Path

KAGGLE_HEADER = (
    "PatientId,AppointmentID,Gender,ScheduledDay,AppointmentDay,Age,Neighbourhood,"
    "Scholarship,Hipertension,Diabetes,Alcoholism,Handcap,SMS_received,No-show"
)
# (neighbourhood, appointment day, no-show) — as in the public dataset: `Yes` = did NOT come.
_KAGGLE_ROWS = [
    ("JARDIM DA PENHA", "2016-04-25", "No"),
    ("JARDIM DA PENHA", "2016-04-25", "Yes"),
    ("JARDIM DA PENHA", "2016-04-26", "No"),
    ("JARDIM DA PENHA", "2016-04-27", "No"),
    ("JARDIM DA PENHA", "2016-04-28", "Yes"),
    ("JARDIM DA PENHA", "2016-04-29", "No"),
    ("MATA DA PRAIA", "2016-04-25", "No"),
    ("MATA DA PRAIA", "2016-04-26", "No"),
    ("MATA DA PRAIA", "2016-04-27", "Yes"),
    ("MATA DA PRAIA", "2016-04-28", "No"),
    ("MATA DA PRAIA", "2016-04-29", "No"),
    ("MATA DA PRAIA", "2016-04-29", "No"),
    ("MATA DA PRAIA", "2016-04-29", "Maybe"),  # rejected: not in the value map
]
# By hand: JARDIM DA PENHA 2 no-shows of 6, MATA DA PRAIA 1 of 6 (the `Maybe` is rejected).
KAGGLE_NO_SHOW = {"JARDIM DA PENHA": 2 / 6, "MATA DA PRAIA": 1 / 6}


def kaggle_csv() -> str:
    lines = [KAGGLE_HEADER]
    for i, (place, day, no_show) in enumerate(_KAGGLE_ROWS):
        patient = f"{29872499824296 + i * 7919}"
        lines.append(
            f"{patient},{5642903 + i},F,2016-04-2{i % 3}T1{i % 10}:38:08Z,{day}T00:00:00Z,"
            f"{30 + i},{place},0,{i % 2},0,0,0,{i % 2},{no_show}"
        )
    return "\n".join(lines) + "\n"


PM_HEADER = (
    '"Appt ID","Patient Acct","Provider","Location","Appt Type","Date Booked",'
    '"Appt Date/Time","End Time","Cancelled","Cancel Date","No Show","Arrived","Roomed",'
    '"With Provider","Checked Out","Visit No."'
)


def _pm(appt, patient, provider, kind, booked, start, end, cancelled="N", cancel_date="",
        no_show="No", arrived="", roomed="", with_provider="", out="", visit=""):  # fmt: skip
    fields = [appt, patient, provider, "MAIN", kind, booked, start, end, cancelled,
              cancel_date, no_show, arrived, roomed, with_provider, out, visit]  # fmt: skip
    return ",".join(f'"{f}"' for f in fields)


def pm_report_csv() -> str:
    """Ten appointments at MAIN in the week of Monday 25 April 2016, a block, a bad type.

    By hand: 6 completed (lobby waits 5, 10, 15, 20, 25, 30 min: median 17.5), 2 no-shows,
    2 cancelled (one 17.5 h before its start: late). no_show_rate 2 / 8 = 0.25,
    late_cancel_rate 1 / (8 + 1), completed_visits 6.
    """
    rows = [PM_HEADER]
    waits = [5, 10, 15, 20, 25, 30]
    for i, wait in enumerate(waits):
        day = 25 + i % 5
        rows.append(
            _pm(
                f"A-{1001 + i}", f"10{i:04d}", "DR1" if i % 2 else "DR2",
                "Follow Up" if i % 3 else "New Patient", "04/15/2016",
                f"4/{day}/16 9:00 AM", f"4/{day}/16 9:30 AM",
                arrived=f"4/{day}/16 8:40 AM", roomed=f"4/{day}/16 {_clock(8 * 60 + 40 + wait)}",
                with_provider=f"4/{day}/16 9:15 AM", out=f"4/{day}/16 9:40 AM",
                visit=f"V{1001 + i}",
            )
        )  # fmt: skip
    rows += [
        _pm("A-1011", "100100", "DR1", "Follow Up", "04/18/2016", "4/26/16 2:00 PM",
            "4/26/16 2:15 PM", no_show="Yes"),
        _pm("A-1012", "100101", "DR2", "Annual Physical", "04/01/2016", "4/27/16 10:00 AM",
            "4/27/16 10:45 AM", no_show="YES"),
        _pm("A-1013", "100102", "DR1", "Follow Up", "04/10/2016", "4/29/16 8:30 AM",
            "4/29/16 8:45 AM", cancelled="Y", cancel_date="4/28/16 3:00 PM"),
        _pm("A-1014", "100103", "DR2", "Telehealth", "04/10/2016", "4/27/16 1:00 PM",
            "4/27/16 1:20 PM", cancelled="Y", cancel_date="4/20/16 11:15 AM"),
        _pm("B-1", "", "DR1", "Block", "04/01/2016", "4/25/16 12:00 PM", "4/25/16 1:00 PM"),
        _pm("A-1015", "100104", "DR1", "Consult", "04/20/2016", "4/28/16 3:00 PM",
            "4/28/16 3:30 PM"),
    ]  # fmt: skip
    return "\n".join(rows) + "\n"


def _clock(minutes: int) -> str:
    """`9:00 AM` for 540 minutes after midnight."""
    hours, mins = divmod(minutes, 60)
    suffix = "AM" if hours < 12 else "PM"
    return f"{(hours - 1) % 12 + 1}:{mins:02d} {suffix}"


MEDISOFT_HEADER = (
    "Entry,Date From,Date Posted,Chart,Claim,Document,Type,Procedure,Modifier,Units,Amount,"
    "Applied To,Provider,Facility,Insurance 1,Adj Code"
)


def medisoft_csv() -> str:
    """Four charges (week of 25 April 2016), payments and adjustments (week of 2 May).

    By hand: gross_charges (week of 25 April) 150 + 25 + 1,250 + 95.50 = 1,520.50;
    payments (week of 2 May) payer 100 + 1,000, patient 25 + 20, refund 10: 1,135.00;
    A/R at the as-of date (5 May, the last posting) 1,520.50 − 1,100 − 45 − 30 + 10 = 355.50.
    The transfer is filtered out by every route.
    """
    rows = [
        "E1,04/25/2016,04/26/2016,CH001,CL1,D1,CHARGE,99213,,1,$150.00,,DR1,MAIN,BCBS,",
        "E2,04/25/2016,04/26/2016,CH001,CL1,D1,CHARGE,36415,,1,$25.00,,DR1,MAIN,BCBS,",
        'E3,04/26/2016,04/27/2016,CH002,CL2,D2,CHARGE,99204,25,1,"$1,250.00",,DR2,MAIN,AETNA,',
        "E4,04/27/2016,04/28/2016,CH003,CL3,D3,CHARGE,99212,,1,$95.50,,DR1,MAIN,SELF,",
        "E5,05/03/2016,05/03/2016,CH001,CL1,D1,INS PMT,BCBS,,,(100.00),E1,DR1,MAIN,BCBS,",
        "E6,05/03/2016,05/03/2016,CH001,CL1,D1,ADJUSTMENT,CO45,,,(30.00),E1,DR1,MAIN,BCBS,CO-45",
        'E7,05/04/2016,05/04/2016,CH002,CL2,D2,INS PMT,AETNA,,,"(1,000.00)",E3,DR2,MAIN,AETNA,',
        "E8,05/04/2016,05/04/2016,CH001,CL1,D1,PAT PMT,CASH,,,(25.00),E2,DR1,MAIN,BCBS,",
        "E9,05/03/2016,05/03/2016,CH001,CL1,D1,TRANSFER,,,,(20.00),E1,DR1,MAIN,BCBS,",
        "E10,05/02/2016,05/02/2016,CH003,CL3,D3,PAT PMT,CHECK,,,($20.00),E4,DR1,MAIN,SELF,",
        "E11,05/05/2016,05/05/2016,CH003,CL3,D3,PAT PMT,REFUND,,,$10.00,E4,DR1,MAIN,SELF,",
    ]
    return MEDISOFT_HEADER + "\n" + "\n".join(rows) + "\n"


def gl_csv() -> str:
    """April 2016 at MAIN: rent 2,400.00 + medical supplies 1,234.56 = 3,634.56."""
    return (
        "Monat;Standort;Konto;Betrag\n"
        "04.2016;MAIN;Miete;2.400,00 €\n"
        "04.2016;MAIN;Praxisbedarf;1.234,56 €\n"
    )


def write_vendor_inbox(inbox: Path) -> None:
    """Each file where a practice would drop it: a source folder, a week sub-folder, the
    inbox's top level."""
    (inbox / "scheduling").mkdir(parents=True, exist_ok=True)
    (inbox / "billing" / "2016-W18").mkdir(parents=True, exist_ok=True)
    (inbox / "finance").mkdir(parents=True, exist_ok=True)
    (inbox / "scheduling" / "KaggleV2-May-2016.csv").write_text(kaggle_csv(), encoding="utf-8")
    (inbox / "ApptReport_20160429.csv").write_text(pm_report_csv(), encoding="utf-8")
    (inbox / "billing" / "2016-W18" / "Transactions_2016-05-05.csv").write_text(
        medisoft_csv(), encoding="utf-8"
    )
    (inbox / "finance" / "GL_Expenses_2016-04.csv").write_text(gl_csv(), encoding="utf-8")


PRESETS = ["kaggle_no_shows", "pm_appointment_report", "medisoft_transactions",
           "european_gl_export"]  # fmt: skip
