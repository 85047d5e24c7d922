"""The twelve export contracts of shared/CONTRACTS.md, declared once.

Everything that needs to know what a file looks like reads it from here: landing
(parsing, validation, pseudonymisation), the empty schema files that let dbt build
before an entity's first delivery, the sample generator, the docs and the tests. When
CONTRACTS.md changes, this module is the only code that should have to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """How a value is parsed at landing and typed in the lake."""

    STR = "str"
    INT = "int"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    TIMESTAMP = "timestamp"
    MONTH = "month"  # YYYY-MM
    ENUM = "enum"
    CODE = "code"  # compared after trimming and upper-casing (cpt_code, modifier)


class Privacy(StrEnum):
    """What landing does with a personal-data column, so that it never goes further."""

    NONE = "none"
    HASH = "hash"  # replaced by a keyed HMAC-SHA256 under the name in `Column.lake_name`
    DROP = "drop"  # never written to the lake


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool
    description: str = ""
    enum: tuple[str, ...] = ()
    privacy: Privacy = Privacy.NONE
    # Range rules of CONTRACTS.md "Validation at landing"; bounds are inclusive unless
    # the matching *_exclusive flag says otherwise.
    min_value: float | None = None
    min_exclusive: bool = False
    max_value: float | None = None
    length: int | None = None  # exact length after normalising (cpt_code)

    @property
    def lake_name(self) -> str:
        """Column name in the lake: hashed personal data gets a name that says so."""
        if self.privacy is Privacy.HASH:
            return self.name.removesuffix("_id") + "_key"
        return self.name

    @property
    def offset_name(self) -> str:
        """Timestamps keep their wall-clock value plus the UTC offset written with it.

        The offset is converted to the location's timezone in dbt (which knows the
        locations); a location without a timezone uses the wall-clock time as written.
        """
        return f"{self.name}_offset_min"


@dataclass(frozen=True)
class RowRule:
    """A rule across columns of one row; `check` names the rule implemented in landing."""

    name: str
    columns: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class Contract:
    entity: str
    source: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str
    row_rules: tuple[RowRule, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.entity} has no column {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


MONEY = dict(kind=Kind.MONEY, min_value=0.0)
HOURS = dict(kind=Kind.NUMBER, min_value=0.0)
POSITIVE_INT = dict(kind=Kind.INT, min_value=0, min_exclusive=True)

APPOINTMENT_STATUSES = ("scheduled", "completed", "no_show", "cancelled")
FINANCIAL_CLASSES = ("commercial", "medicare", "medicaid", "self_pay", "other")
TRANSACTION_TYPES = (
    "payer_payment",
    "patient_payment",
    "contractual_adjustment",
    "write_off",
    "denial",
    "refund",
)
STAFF_ROLES = (
    "physician",
    "nurse_practitioner",
    "physician_assistant",
    "registered_nurse",
    "medical_assistant",
    "front_desk",
    "billing",
    "manager",
    "other",
)
CLINICIAN_ROLES = ("physician", "nurse_practitioner", "physician_assistant")
GL_ACCOUNTS = (
    "rent",
    "medical_supplies",
    "office_supplies",
    "it_software",
    "insurance",
    "utilities",
    "purchased_services",
    "marketing",
    "other",
)
BUDGET_VOLUME_LINES = ("completed_visits", "gross_charges", "collections", "labor_cost")
APPOINTMENT_TYPES = ("new_patient", "established", "annual_physical", "procedure", "telehealth")


CONTRACTS: tuple[Contract, ...] = (
    Contract(
        entity="locations",
        source="reference",
        key=("location_id",),
        description="The practice's sites and the timezone each one's clock runs in.",
        columns=(
            Column(
                "location_id", Kind.STR, True, "the site; every location_id elsewhere matches one"
            ),
            Column(
                "location_name",
                Kind.STR,
                True,
                "how the practice names the site on screens and reports",
            ),
            Column("timezone", Kind.STR, False, "IANA name, e.g. America/Chicago"),
        ),
        row_rules=(
            RowRule("known_timezone", ("timezone",), "timezone is not an IANA time zone name"),
        ),
    ),
    Contract(
        entity="providers",
        source="reference",
        key=("provider_id",),
        description=(
            "Optional: how the practice names its clinicians on screens and reports, their "
            "NPI and specialty. Without it, screens show provider ids."
        ),
        columns=(
            Column("provider_id", Kind.STR, True, "matches scheduling, billing and staff"),
            # A clinician's professional name, not a patient's or a staff row's personal
            # data (CONTRACTS.md providers.csv): it may reach screens and the deck.
            Column(
                "display_name",
                Kind.STR,
                True,
                'how the practice names the clinician ("Dr. A. Rivera")',
            ),
            Column(
                "npi",
                Kind.STR,
                False,
                "National Provider Identifier, 10 digits with its check digit",
            ),
            Column(
                "specialty", Kind.STR, False, "e.g. family_medicine; benchmarks match known values"
            ),
            Column("location_id", Kind.STR, False, "home location when staff.csv gives none"),
        ),
        row_rules=(
            RowRule(
                "valid_npi",
                ("npi",),
                "npi is not a valid National Provider Identifier (10 digits whose last is "
                "the Luhn check digit of 80840 and the first nine)",
            ),
        ),
    ),
    Contract(
        entity="appointments",
        source="scheduling",
        key=("appointment_id",),
        description="Every appointment the scheduler knows, with its visit time stamps.",
        columns=(
            Column("appointment_id", Kind.STR, True, "the scheduler's id of the appointment"),
            Column("patient_id", Kind.STR, True, "personal data", privacy=Privacy.HASH),
            Column("provider_id", Kind.STR, True, "the clinician the slot belongs to"),
            Column(
                "location_id", Kind.STR, True, "where the visit takes place (locations.location_id)"
            ),
            # An open list: other types are allowed, so it is a string, not an enum.
            Column("appointment_type", Kind.STR, True, ", ".join(APPOINTMENT_TYPES)),
            Column("booked_at", Kind.TIMESTAMP, True, "when the appointment was made"),
            Column(
                "scheduled_start",
                Kind.TIMESTAMP,
                True,
                "when the visit is booked to start, local clinic time",
            ),
            Column(
                "scheduled_minutes", description="slot length, > 0", required=True, **POSITIVE_INT
            ),
            Column(
                "status",
                Kind.ENUM,
                True,
                "scheduled (still in the future), completed, no_show or cancelled",
                enum=APPOINTMENT_STATUSES,
            ),
            Column("cancelled_at", Kind.TIMESTAMP, False, "required when cancelled"),
            Column("checked_in_at", Kind.TIMESTAMP, False, "patient arrived at the front desk"),
            Column("roomed_at", Kind.TIMESTAMP, False, "patient taken to an exam room"),
            Column("provider_start_at", Kind.TIMESTAMP, False, "clinician entered the room"),
            Column("checked_out_at", Kind.TIMESTAMP, False, "visit ended at the front desk"),
            Column("encounter_id", Kind.STR, False, "links a completed visit to its charges"),
        ),
        row_rules=(
            RowRule(
                "cancelled_needs_cancelled_at",
                ("status", "cancelled_at"),
                "a cancelled appointment needs cancelled_at",
            ),
        ),
    ),
    Contract(
        entity="provider_slots",
        source="scheduling",
        key=("provider_id", "slot_start"),
        description="The schedule template: the slots each provider offers.",
        columns=(
            Column("provider_id", Kind.STR, True, "the clinician who offers the slot"),
            Column("location_id", Kind.STR, True, "where the slot is offered"),
            Column("slot_start", Kind.TIMESTAMP, True, "when the slot starts, local clinic time"),
            Column(
                "slot_minutes", description="length of the slot, > 0", required=True, **POSITIVE_INT
            ),
        ),
    ),
    Contract(
        entity="payers",
        source="billing",
        key=("payer_id",),
        description="Insurers and other payers, with the financial class used for payer mix.",
        columns=(
            Column("payer_id", Kind.STR, True, "the billing system's id of the payer"),
            Column(
                "payer_name", Kind.STR, True, "how the payer is named on remittances and screens"
            ),
            Column(
                "financial_class",
                Kind.ENUM,
                True,
                "the class payer mix is reported by",
                enum=FINANCIAL_CLASSES,
            ),
        ),
    ),
    Contract(
        entity="charges",
        source="billing",
        key=("charge_id",),
        description="Claim lines: one billed CPT/HCPCS code with its units and amount.",
        columns=(
            Column("charge_id", Kind.STR, True, "one billed line"),
            Column("claim_id", Kind.STR, True, "the claim the line was billed on"),
            Column("encounter_id", Kind.STR, False, "the visit the line came from"),
            Column("patient_id", Kind.STR, True, "personal data", privacy=Privacy.HASH),
            Column(
                "rendering_provider_id", Kind.STR, True, "the clinician who performed the service"
            ),
            Column("location_id", Kind.STR, True, "where the service was performed"),
            Column("payer_id", Kind.STR, True, "primary payer"),
            Column("service_date", Kind.DATE, True, "date of service"),
            Column("posted_date", Kind.DATE, True, "entered the ledger, >= service_date"),
            Column("cpt_code", Kind.CODE, True, "CPT/HCPCS code, 5 characters", length=5),
            Column(
                "modifier",
                Kind.CODE,
                False,
                "CPT modifier (e.g. 25), picks the RVU row for the code",
            ),
            Column(
                "units", description="number of units billed, >= 1", required=True, **POSITIVE_INT
            ),
            Column("charge_amount", required=True, description="units included", **MONEY),
        ),
        row_rules=(
            RowRule(
                "posted_not_before_service",
                ("service_date", "posted_date"),
                "posted_date is before service_date",
            ),
        ),
    ),
    Contract(
        entity="claims",
        source="billing",
        key=("claim_id",),
        description="Claims as submitted to payers.",
        columns=(
            Column("claim_id", Kind.STR, True, "the billing system's id of the claim"),
            Column("payer_id", Kind.STR, True, "the payer the claim was submitted to"),
            Column("submitted_date", Kind.DATE, True, "first submission to the payer"),
        ),
    ),
    Contract(
        entity="transactions",
        source="billing",
        key=("transaction_id",),
        description="Payments, adjustments, write-offs, denials and refunds against claims.",
        columns=(
            Column("transaction_id", Kind.STR, True, "the billing system's id of the posting"),
            Column("claim_id", Kind.STR, True, "the claim it applies to"),
            Column("charge_id", Kind.STR, False, "the line it applies to, when line-level"),
            Column("posted_date", Kind.DATE, True, "date the money or adjustment was posted"),
            Column(
                "transaction_type",
                Kind.ENUM,
                True,
                "payer_payment, patient_payment, contractual_adjustment, write_off, denial "
                "or refund",
                enum=TRANSACTION_TYPES,
            ),
            Column("amount", required=True, description="sign comes from the type", **MONEY),
            Column("reason_code", Kind.STR, False, "CARC such as CO-45"),
        ),
    ),
    Contract(
        entity="staff",
        source="hr",
        key=("employee_id",),
        description="Employees with role, FTE and employment dates; names never leave landing.",
        columns=(
            Column("employee_id", Kind.STR, True, "the payroll system's id of the employee"),
            Column("full_name", Kind.STR, True, "personal data", privacy=Privacy.DROP),
            Column(
                "role",
                Kind.ENUM,
                True,
                "job role; physician, nurse_practitioner and physician_assistant are clinicians",
                enum=STAFF_ROLES,
            ),
            Column("provider_id", Kind.STR, False, "set for clinicians who see patients"),
            Column("location_id", Kind.STR, True, "home location"),
            Column(
                "fte",
                Kind.NUMBER,
                True,
                "0 < fte <= 1",
                min_value=0.0,
                min_exclusive=True,
                max_value=1.0,
            ),
            Column("hire_date", Kind.DATE, True, "first day employed"),
            Column(
                "termination_date",
                Kind.DATE,
                False,
                "last day employed, when the employee has left",
            ),
        ),
    ),
    Contract(
        entity="timesheets",
        source="hr",
        key=("employee_id", "pay_period_start"),
        description="Payroll by pay period: hours and the cost of each employee.",
        columns=(
            Column("employee_id", Kind.STR, True, "the employee paid (staff.employee_id)"),
            Column("pay_period_start", Kind.DATE, True, "first day of the pay period"),
            Column("pay_period_end", Kind.DATE, True, "inclusive"),
            Column(
                "regular_hours",
                description="hours worked at the regular rate",
                required=True,
                **HOURS,
            ),
            Column(
                "overtime_hours",
                description="hours worked at the overtime rate",
                required=True,
                **HOURS,
            ),
            Column(
                "pto_hours",
                description="paid time off; counts in neither worked hours nor overtime share",
                required=True,
                **HOURS,
            ),
            Column("gross_pay", description="wages for the period", required=True, **MONEY),
            Column(
                "benefits_cost",
                description="employer benefits and taxes for the period (missing = 0)",
                required=False,
                **MONEY,
            ),
        ),
        row_rules=(
            RowRule(
                "period_end_not_before_start",
                ("pay_period_start", "pay_period_end"),
                "pay_period_end is before pay_period_start",
            ),
        ),
    ),
    Contract(
        entity="gl_expenses",
        source="finance",
        key=("month", "location_id", "account"),
        description="Monthly non-labour operating expenses from the ledger.",
        columns=(
            Column("month", Kind.MONTH, True, "the month the expense belongs to (YYYY-MM)"),
            Column("location_id", Kind.STR, True, "the location that bears the expense"),
            # CONTRACTS.md lists the usual accounts but does not close the list.
            Column("account", Kind.STR, True, ", ".join(GL_ACCOUNTS)),
            Column(
                "amount", description="the month's expense on that account", required=True, **MONEY
            ),
        ),
    ),
    Contract(
        entity="budget",
        source="finance",
        key=("month", "location_id", "line"),
        description="The monthly plan per location and line.",
        columns=(
            Column("month", Kind.MONTH, True, "the month planned (YYYY-MM)"),
            Column("location_id", Kind.STR, True, "the location the plan is for"),
            Column("line", Kind.STR, True, "a volume line or a gl account name"),
            Column("amount", Kind.NUMBER, True, "a count for completed_visits, else money"),
        ),
    ),
)

BY_ENTITY: dict[str, Contract] = {c.entity: c for c in CONTRACTS}
SOURCES: tuple[str, ...] = ("reference", "scheduling", "billing", "hr", "finance")


def contract_for(entity: str) -> Contract:
    try:
        return BY_ENTITY[entity]
    except KeyError:
        known = ", ".join(sorted(BY_ENTITY))
        raise KeyError(f"unknown entity {entity!r} (known: {known})") from None
