# ruff: noqa: E501 (the CSV rows are data, kept one per line)
"""A small hand-written delivery of edge cases, landed on top of a generated practice so
that the oracle comparison meets the spec's boundary rules: offsets; a location without a
timezone, one missing from locations and one in a half-hour zone; DST; the 24-hour and
12-hour limits; string order of charge ids; unknown payers and codes; credit balances; a
charge posted after the as-of date; a provider's visit in Denver taking its Chicago slot
(wall-clock); staff terminated on a period's last day; two current rows for one provider;
budget lines in other cases. Staff arrive as a full snapshot (EDGE_CONFIG) that leaves
out one generated employee, who must then be deleted.

Ids refer to the generated practice of `generate_practice(providers=3)`: locations
L01-L03, providers PRV0001-PRV0003, payers PY001-PY010. The run's as-of date is
2026-06-10.
"""

from __future__ import annotations

import gzip
from pathlib import Path

FILES = {
    "reference/locations.csv": """location_id,location_name,timezone
L03,Front Range Internal Medicine,america/denver
L09,Annex,
L08,Harbour Clinic,America/St_Johns
""",
    "scheduling/appointments.csv": """appointment_id,patient_id,provider_id,location_id,appointment_type,booked_at,scheduled_start,scheduled_minutes,status,cancelled_at,checked_in_at,roomed_at,provider_start_at,checked_out_at,encounter_id
X01,P1,PRV0003,L09,established,2026-05-01 10:00,2026-05-12 09:00-05:00,20,completed,,2026-05-12 08:55+02:00,2026-05-12 09:05,2026-05-12 09:10,2026-05-12 09:40,
X02,P2,PRV0001,L03,established,2026-05-01 10:00,2026-05-18T05:30:00Z,30,completed,,2026-05-18T05:25:00Z,2026-05-17 23:31,2026-05-17 23:40,2026-05-18T06:10:00Z,
X03,P3,PRV0002,L02,established,2026-05-01 10:00,2026-05-20 10:00,20,cancelled,2026-05-19 10:00,,,,,
X04,P4,PRV0002,L02,established,2026-05-01 10:00,2026-05-20 10:20,20,cancelled,2026-05-19 10:20:01,,,,,
X05,P5,PRV0002,L02,established,2026-05-01 10:00,2026-05-20 11:00,20,cancelled,2026-05-20 11:30,,,,,
X06,P6,PRV0003,L01,established,2026-05-01 10:00,2026-05-21 08:00,20,completed,,2026-05-21 08:00,2026-05-21 20:00,2026-05-21 20:10,2026-05-21 19:00,
X07,P7,PRV0003,L01,established,2026-05-01 10:00,2026-05-21 09:00,20,completed,,2026-05-21 09:10,2026-05-21 09:00,2026-05-21 09:20,2026-05-21 09:50,
X08,P8,PRV0003,L01,established,2026-03-01 10:00,2026-03-08 01:30,20,completed,,2026-03-08 01:30,2026-03-08 03:10,2026-03-08 03:20,2026-03-08T09:30:00Z,
X09,P9,PRV0001,L03, New_Patient ,2026-04-01 12:00,2026-05-06 09:00,40,completed,,,,,,
X10,P10,PRV9999,L01,established,2026-05-01 10:00,2026-05-13 09:00,20,completed,,2026-05-13 08:50,2026-05-13 09:00,2026-05-13 09:05,2026-05-13 09:30,
X11,P11,PRV0003,L01,established,2026-05-01 10:00,2026-06-09 16:00,20,scheduled,,,,,,
X12,P12,PRV0002,L02,new_patient,2026-05-27 12:00,2026-05-27 09:00,40,no_show,,,,,,
X13,P13,PRV0001,L03,established,2026-05-01 10:00,2026-05-26 09:00,20,completed,2026-05-20 09:00,2026-05-26 08:55,2026-05-26 09:00,2026-05-26 09:05,2026-05-26 09:30,
X15,P15,PRV0001,L08,established,2026-05-01 10:00,2026-05-14T12:00:00Z,20,completed,,2026-05-14 09:00-02:30,2026-05-14T11:45:00Z,2026-05-14 09:20,2026-05-14 10:00,
X16,P16,PRV0004,L03,established,2026-05-01 10:00,2026-06-03T14:00:00Z,90,completed,,,,,,
X14,P14,PRV0001,L77,established,2026-05-01 10:00,2026-05-14 10:00+00:00,20,completed,,2026-05-14 09:50Z,2026-05-14 10:00,2026-05-14 10:02,2026-05-14 10:30-06:00,
""",
    "scheduling/provider_slots.csv": """provider_id,location_id,slot_start,slot_minutes
PRV0003,L09,2026-05-12 09:00,20
PRV0001,L03,2026-06-02T15:00:00Z,30
PRV0004,L01,2026-06-03 09:00,20
PRV0004,L03,2026-06-04 09:00,20
PRV0004,L03,2026-06-04 09:20,20
PRV0004,L03,2026-06-05 09:00,20
""",
    "billing/claims.csv": """claim_id,payer_id,submitted_date
CLX1,PY999,2026-05-07
CLX2,PY001,2026-06-12
CLX4,PY008,2026-05-29
""",
    "billing/charges.csv": """charge_id,claim_id,encounter_id,patient_id,rendering_provider_id,location_id,payer_id,service_date,posted_date,cpt_code,modifier,units,charge_amount
CX-10,CLX1,,P1,PRV0002,L02,PY999,2026-05-04,2026-05-06,71046,tc,1,80.00
CX-9,CLX1,,P1,PRV0003,L01,PY999,2026-05-04,2026-05-06,99213,25,2,300.00
CX-11,CLX1,,P1,PRV0003,L01,PY999,2026-05-05,2026-05-06,zz001,,1,10.00
CX-12,CLX1,,P1,PRV0003,L01,PY004,2026-05-05,2026-05-07,99214, 26 59 ,1,150.00
CX-20,CLX2,,P2,PRV0001,L03,PY001,2026-06-05,2026-06-12,99213,,1,120.00
CX-30,CLX4,,P4,PRV0001,L03,PY008,2026-05-28,2026-05-29,99212,,1,90.00
""",
    "billing/transactions.csv": """transaction_id,claim_id,charge_id,posted_date,transaction_type,amount,reason_code
TX1,CLX1,CX-9,2026-05-20,payer_payment,100.00,
TX2,CLX1,CX-10,2026-05-20,denial,0,CO-16
TX3,CLX1,,2026-05-25,refund,50.00,
TX4,CLX1,,2026-05-22,patient_payment,900.00,PR-1
TX5,CLX1,CX-NOPE,2026-05-21,contractual_adjustment,20.00,CO-45
TX6,CLX3,,2026-05-15,payer_payment,40.00,
TX7,CLX4,,2026-05-20,patient_payment,10.00,PR-3
TX8,CLX2,,2026-06-12,payer_payment,60.00,
""",
    "hr/staff.csv": """E90001,Edge One,physician,PRV0004,L02,0.5,2026-03-01,2026-05-31
E90002,Edge Two,physician,PRV0004,L03,0.8,2026-06-01,
E90003,Edge Three,nurse_practitioner,,L01,1.0,2025-01-01,
E90004,Edge Four,front_desk,,L01,0.5,2026-06-10,
E90005,Edge Five,physician,PRV0003,L02,0.2,2026-01-01,
""",
    "hr/timesheets.csv": """employee_id,pay_period_start,pay_period_end,regular_hours,overtime_hours,pto_hours,gross_pay,benefits_cost
E90001,2026-05-17,2026-05-30,40,5,8,4000.00,
E99999,2026-05-31,2026-06-13,80,0,0,3000.00,500.00
""",
    "finance/gl_expenses.csv": """month,location_id,account,amount
2026-05,L01,Marketing,100.00
2026-05,L09,rent,3100.00
""",
    "finance/budget.csv": """month,location_id,line,amount
2026-05,L01, Rent ,5000
2026-05,L02,coffee,250
2026-05,L09,rent,3000
2026-05,L09,completed_visits,1
""",
}


DROPPED_EMPLOYEE = "E00004"  # left out of the staff snapshot: deleted downstream
EDGE_FISCAL_START = 7  # a fiscal year from July: quarters and years that are not calendar ones
EDGE_CONFIG = "practice:\n  fiscal_year_start_month: 7\nsources:\n  hr:\n    snapshot: [staff]\n"


def write_edge_delivery(out_dir: Path, history: Path) -> Path:
    """The edge delivery in inbox layout; `history` is the generated first delivery, whose
    staff the snapshot repeats (all but DROPPED_EMPLOYEE)."""
    for name, text in FILES.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == "hr/staff.csv":
            with gzip.open(history / "hr" / "staff.csv.gz", "rt", encoding="utf-8") as fh:
                kept = [line for line in fh if not line.startswith(f"{DROPPED_EMPLOYEE},")]
            text = "".join(kept) + text
        path.write_text(text, encoding="utf-8")
    return out_dir
