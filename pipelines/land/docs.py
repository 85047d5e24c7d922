# ruff: noqa: E501 (Markdown table rows are as long as their cells)
"""The standard-format mappings as docs/contracts.md shows them (pipelines/land/contract_docs.py).

Kept next to the code that implements them (x12.py, fhir.py), so a change of mapping
and its documentation travel together; tests/test_contract_docs.py keeps the page fresh.
"""

MAPPINGS = """\
# Standard formats

Besides CSV (and XLSX, Parquet), landing reads two standard formats into the contracts
above (`pipelines/land/`). They go through the same inbox, ledger (one entry per file),
validation, rejects, re-delivery rules and Dagster landing assets as a CSV: a reader turns
the file into text rows of contract columns, and from there nothing differs.

## X12 835 remittance advice → transactions

Files named `*.835`, `*.x12`, `*.edi` or `*.era`, or `*.txt` / `*.dat` files that start
with an ISA segment, delivered in `inbox/billing/` (an 835 is always the transactions
entity, whatever its name). The file is read and validated with
[pyx12](https://pypi.org/project/pyx12/) 4.0 against the 005010X221A1 map; the 4010
version is not accepted as 835 5010 data. A file whose envelope is broken (ISA/IEA,
GS/GE, ST/SE counts or control numbers), or whose segments are out of the 835's loop
structure (unknown or unexpected segment, missing mandatory segment, a loop or segment
repeated beyond its maximum) fails as a whole with a message naming the segment number;
the next file lands. Element-level findings (a value longer than the standard allows, an
unknown code) do not stop a file. pyx12 was chosen over badx12 and x12-edi-tools because
it is maintained, installs from PyPI on Python 3.11 (pure Python), walks the 835 as its
loop tree (`X12ContextReader`) and validates the envelope and the 5010 map while it
reads, so no X12 tokenizing is written here. It is not fast: loading the 835 map costs
about 2 s per file and it reads about 200 segments a second on the shared 2-core machine
(a payer's weekly 835 of a few thousand segments lands in seconds). A row is one money movement; `_line` (the
"line" of rejects and of the data-quality pages) is the number of the segment it came
from, counted from the ISA.

| contract column | 835 source |
|---|---|
| transaction_id | `835-<TRN03>-<TRN02>-<n>-<part>`: the payment's payer and trace number, the claim's position `n` in the transaction set, and the part (`CP` claim-level payment, `CA<k>` the k-th claim-level adjustment, `L<m>-P` / `L<m>-A<k>` payment / adjustment of the m-th service line, `D` / `L<m>-D` denials). Re-delivering an 835 (even in a new envelope) gives the same ids, so it changes nothing; a corrected 835 of the same payment replaces its rows. |
| claim_id | CLP01, the patient control number the practice sent on the claim |
| charge_id | REF*6R (line item control number) of the SVC loop; empty for claim-level rows |
| posted_date | BPR16 (the payment's effective date), else DTM*405 (production date) of the header |
| transaction_type | see the rules below |
| amount | the absolute amount (money is never negative; the type carries the sign) |
| reason_code | `GROUP-CARC` of the CAS segment, e.g. `CO-45`; empty for payments |

Rules, per claim (CLP loop):

- CLP02 = 4 (denied): one `denial`, amount 0, on the claim (charge_id empty); its reason
  is the first CO/OA/PI reason other than 45 at claim level, else on its lines. The denied
  amounts move no A/R (CONTRACTS.md), so its CAS amounts make no transaction.
- A service line (SVC) paid 0 (SVC03 = 0) with a CO/OA/PI reason other than 45 is a line
  denial: one `denial`, amount 0, with that reason and the line's charge_id.
- Otherwise each SVC gives a `payer_payment` of SVC03, and each CAS triple of group CO,
  OA or PI a `contractual_adjustment` with reason `GROUP-CARC`. The claim's payment not
  itemised on lines (CLP04 minus the sum of SVC03; all of CLP04 when the claim has no SVC
  loop) is a claim-level `payer_payment`; claim-level CAS triples are claim-level
  adjustments.
- An amount below zero is a take-back (a reversal, CLP02 = 22, or a negative line): it
  raises A/R again and lands as a `refund` of the absolute amount, with the reversed
  adjustment's `GROUP-CARC` as reason (empty for a reversed payment). A reversal and its
  re-payment in the same or a later 835 therefore net out in A/R. The contract has no
  type for "adjustment taken back", so `payments` (− refund, KPI_SPEC.md) also counts a
  reversed adjustment as money returned; such refunds are the ones with a CO/OA/PI
  reason, should the KPI want to tell them apart.
- CAS group PR (deductible PR-1, coinsurance PR-2, copay PR-3, …) only moves the
  responsibility to the patient: it is no transaction. It is kept, per claim or line, in
  the lake's remittance area and the data-quality table `marts.dq_remittance`
  (`kind = patient_responsibility`).
- PLB provider-level adjustments (interest L6, forward balance FB, levies, …) belong to no
  claim: each PLB03/05/…/13 adjustment is kept in `marts.dq_remittance`
  (`kind = provider_adjustment`, reason_code = the adjustment reason code, amount as the
  835 reports it: below 0 adds to the payment).
- A claim id the billing export does not know is loaded and reported as an orphan
  (`marts.dq_orphans`), like any transaction. A claim paid over two 835s lands both parts.
- The payer (N1*PR name, REF*2U payer id, else TRN03), the trace number, CLP02 and CLP07
  are kept in `_extra` for tracing. NM1 segments (patient, insured, provider names) are
  never read.

## FHIR R4 bulk data (NDJSON) → locations, providers, provider_slots, appointments, charges, transactions, payers

Files named `*.ndjson` or `*.ndjson.gz`, one resource type per file as `$export` writes
them (`Appointment.ndjson`, `Appointment_1.ndjson`, `1.Appointment.ndjson`; the type is
read from the file name, else from the first line). An export holds resources of every
system, so its files land from any source folder of the inbox. Each line is validated
with the R4B models of [fhir.resources](https://pypi.org/project/fhir.resources/) 8.3
(`fhir.resources.R4B`); a line that is not JSON, holds another resource type or is not a
valid resource is a rejected row naming the line and the failing field path (never the
value). `_line` is the line of the NDJSON file. Lines are streamed and judged one
resource at a time (about 600 resources a second on the shared 2-core machine: pydantic
validation is the cost); the partner file of a pair is held in memory as an index.

References cross files: a Slot names its Schedule, an Encounter its Appointment, a
PractitionerRole its Practitioner. The partner file of the same export (same folder) is
read to join them, and either file of a pair lands the joined rows, so re-delivering
either one updates them (landing `Slot.ndjson` and `Schedule.ndjson` loads each slot
twice with the same values; the newest delivery wins, as always).

A file of a resource type that maps to nothing (Patient, Observation, …) fails with the
count of its resources by type; a resource inside a mapped file that cannot be mapped
(an appointment status outside the list below, a slot that is not offered, a slot whose
Schedule is missing) is a rejected row with the reason, so every resource is counted.
ClaimResponse is not mapped (an ExplanationOfBenefit says the same per line), and the
claims entity does not come from FHIR: landing gives a file one entity, and a Claim's
lines are the charges. Deliver claims.csv beside a FHIR export (or the 835s' claims),
else the charges' claims are reported as orphans.

### Location → locations

| contract column | FHIR |
|---|---|
| location_id | Location.id |
| location_name | Location.name |
| timezone | extension `http://hl7.org/fhir/StructureDefinition/timezone` (valueCode) |

### Practitioner + PractitionerRole → providers

Landed only when the build has the `providers` contract (otherwise such a file fails
with that reason).

| contract column | FHIR |
|---|---|
| provider_id | Practitioner.id |
| display_name | Practitioner.name (the `official` one, else the first): its `text`, else prefix, given and family |
| npi | Practitioner.identifier with system `http://hl7.org/fhir/sid/us-npi` |
| specialty | PractitionerRole.specialty (first coding's code, else text) |
| location_id | PractitionerRole.location (first Location reference) |

### Schedule + Slot → provider_slots

| contract column | FHIR |
|---|---|
| provider_id | the Slot's Schedule.actor that references a Practitioner |
| location_id | the Slot's Schedule.actor that references a Location |
| slot_start | Slot.start (an instant: its UTC offset is kept and converted to the location's time zone in dbt) |
| slot_minutes | Slot.end − Slot.start |

Slots with status free, busy or busy-tentative are offered slots; busy-unavailable and
entered-in-error are rejected with that reason. The Slot id and status are kept in `_extra`.

### Appointment + Encounter → appointments

| contract column | FHIR |
|---|---|
| appointment_id | Appointment.id |
| patient_id | the participant actor referencing a Patient (`Patient/<id>` → `<id>`): personal data, pseudonymised at landing exactly like a CSV's patient_id |
| provider_id | the participant actor referencing a Practitioner |
| location_id | the participant actor referencing a Location |
| appointment_type | Appointment.appointmentType (first coding's code, else text), else serviceType |
| booked_at | Appointment.created |
| scheduled_start | Appointment.start |
| scheduled_minutes | Appointment.minutesDuration, else end − start |
| status | proposed, pending, booked → scheduled; arrived, checked-in, fulfilled → completed; noshow → no_show; cancelled → cancelled; entered-in-error, waitlist → rejected |
| cancelled_at | R5's cancellationDate as the cross-version extension `http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.cancellationDate`, else meta.lastUpdated (R4 has no cancellation time; the last update of a cancelled appointment is when it was cancelled). Without either, the contract's rule rejects the row. |
| checked_in_at | the Encounter's statusHistory `arrived` period start |
| roomed_at | statusHistory `triaged` period start |
| provider_start_at | statusHistory `in-progress` period start |
| checked_out_at | statusHistory `finished` period start |
| encounter_id | Encounter.id of the Encounter whose `appointment` references it |

An Encounter without statusHistory gives checked_in_at = period.start and
checked_out_at = period.end (rooming and provider start unknown). The FHIR status is
kept in `_extra`.

### Claim → charges

One charge per Claim.item.

| contract column | FHIR |
|---|---|
| charge_id | `<Claim.id>-<item.sequence>` (the ExplanationOfBenefit's lines use the same id) |
| claim_id | Claim.id |
| encounter_id | item.encounter (first Encounter reference) |
| patient_id | Claim.patient (`Patient/<id>`): personal data, pseudonymised at landing |
| rendering_provider_id | Claim.provider when it references a Practitioner, else the first careTeam Practitioner |
| location_id | item.locationReference, else Claim.facility |
| payer_id | Claim.insurer (Organization id) |
| service_date | item.servicedDate, else item.servicedPeriod.start, else Claim.billablePeriod.start |
| posted_date | Claim.created (date part) |
| cpt_code | item.productOrService: the coding whose system names CPT or HCPCS, else the first code (a code that is not 5 characters is rejected by the contract) |
| modifier | item.modifier (first code) |
| units | item.quantity.value, else 1 |
| charge_amount | item.net, else unitPrice × quantity |

### ExplanationOfBenefit → transactions

| contract column | FHIR |
|---|---|
| transaction_id | `EOB-<id>-<item.sequence>-<P/A/D>` (`EOB-<id>-P` at claim level) |
| claim_id | ExplanationOfBenefit.claim (Claim id), else the EOB's id |
| charge_id | `<claim id>-<item.sequence>` |
| posted_date | payment.date, else created (date part) |
| transaction_type, amount | per item: the adjudication amounts of category benefit / paidtoprovider / payment (or the Blue Button `line_prvdr_pmt_amt`, `line_nch_pmt_amt`) → `payer_payment`; submitted − eligible (`line_sbmtd_chrg_amt` − `line_alowd_chrg_amt`) → `contractual_adjustment` CO-45; an item paid 0 with an adjudication reason → `denial` (amount 0). An EOB without items: payment.amount → claim-level `payer_payment`; outcome `error` → claim-level `denial`. A negative amount is a `refund`. |
| reason_code | CO-45 for the adjustment; the adjudication reason (as `CO-<code>` when it has no group) for a denial |

The patient's share (deductible, copay, coinsurance) is no movement of the payer and is
not mapped.

### Organization + Coverage → payers

| contract column | FHIR |
|---|---|
| payer_id | Organization.id (the payor a Coverage references) |
| payer_name | Organization.name |
| financial_class | the Coverage's type (code, display or text) by keyword: medicare, medicaid, self → self_pay, commercial / private / PPO / HMO → commercial; else (or without a Coverage) other |

An Organization that is neither of type `pay` / `ins` nor a Coverage's payor (a hospital,
the practice itself) is rejected as no payer, so it is counted.

## Round trip

`clinicops sample --out inbox --standard-out std` also writes the same practice as 835
files (one per payer and ISO week, one transaction set per posting day) and FHIR NDJSON
(Location, Schedule, Slot, Appointment, Encounter); what those formats cannot carry
(patient payments, write-offs, the self-pay discount, the other entities) stays CSV.
`tests/land/test_round_trip.py` lands both inboxes and checks that they publish the same
`marts.kpi_values`.
"""
