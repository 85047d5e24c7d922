"""A corpus of hostile and odd deliveries, each with the outcome landing must give it.

`build_corpus()` returns the cases; `write_case()` puts one in an inbox. A case is one
file. Its expected outcome is either a file-level error (a fragment of the message, and
nothing loaded) or the rows loaded and the rows rejected, each rejection as (line,
column, fragment of the reason). Cases of one `group` share a configuration (delimiter,
encoding, mapping, sheet) and land together in one scan, so every case also proves that
the others around it still land.

Families run one oddity over every contract (header only, a missing required column,
renamed-looking headers, another entity's file under the name, CRLF, extra and shuffled
columns); the rest are single cases, grouped by the kind of trouble.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import xlsxwriter

from pipelines.core.config import Config
from pipelines.core.contracts import (
    BY_ENTITY,
    CONTRACTS,
    Kind,
    contract_for,
)
from tests.landing.conftest import VALID

Rejection = tuple[int, str, str]  # line, column, fragment of the reason


def _format(source: str, **fmt: str) -> Config:
    return Config.model_validate({"sources": {source: {"format": fmt}}})


CONFIGS: dict[str, Config] = {
    "default": Config(),
    "semicolon": _format("finance", delimiter=";"),
    "latin-1": _format("reference", encoding="latin-1"),
    "cp1252": _format("reference", encoding="cp1252"),
    "utf-16": _format("reference", encoding="utf-16", delimiter="\t"),
    "mapped": Config.model_validate(
        {
            "sources": {
                "billing": {"mapping": {"payers": {"Ins Co": "payer_id", "Plan": "payer_name"}}},
                "scheduling": {"format": {"sheet": "Data"}},
            }
        }
    ),
}


@dataclass(frozen=True)
class Case:
    name: str
    entity: str
    content: bytes | Callable[[Path], None]  # the bytes, or a writer of the file
    loaded: int = 0
    rejected: tuple[Rejection, ...] = ()
    error: str | None = None  # fragment of the file-level error
    duplicate_keys: int = 0
    # column -> value expected in the lake for the last loaded row (the one a case changes)
    values: dict[str, object] = field(default_factory=dict)
    file_name: str | None = None
    source: str | None = None
    group: str = "default"

    @property
    def file(self) -> str:
        return self.file_name or f"{self.entity}_{self.name}.csv"

    @property
    def folder(self) -> str:
        return contract_for(self.entity).source if self.source is None else self.source


def write_case(case: Case, inbox: Path) -> Path:
    path = inbox / case.folder / case.file
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(case.content, bytes):
        path.write_bytes(case.content)
    else:
        case.content(path)
    return path


# -- building rows -----------------------------------------------------------------------


def rows(entity: str, tag: str, n: int = 1, **changes: str) -> list[dict[str, str]]:
    """`n` valid rows whose key is unique to the case (so no two cases share bytes)."""
    contract = contract_for(entity)
    key = next(k for k in contract.key if contract.column(k).kind is Kind.STR)
    out = []
    for i in range(n):
        r = {**VALID[entity], key: f"{VALID[entity][key]}-{tag}-{i}"}
        out.append(r)
    out[-1] = {**out[-1], **changes}
    return out


def to_csv(
    records: list[dict[str, str]],
    delimiter: str = ",",
    newline: str = "\n",
    header: list[str] | None = None,
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header or list(records[0]))
    for r in records:
        writer.writerow(r.values())
    return out.getvalue()


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def _xlsx(sheets: dict[str, list[list[object]]]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        book = xlsxwriter.Workbook(path)
        stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        for name, table in sheets.items():
            sheet = book.add_worksheet(name)
            for r, values in enumerate(table):
                for c, value in enumerate(values):
                    if isinstance(value, dt.datetime):
                        sheet.write_datetime(r, c, value, stamp)
                    else:
                        sheet.write(r, c, value)
        book.close()

    return write


# -- the corpus --------------------------------------------------------------------------


def _families() -> list[Case]:
    cases: list[Case] = []
    for i, contract in enumerate(CONTRACTS):
        e = contract.entity
        good = rows(e, "fam", 2)
        cases.append(
            Case("header_only", e, utf8(",".join(contract.names) + "\n"), error="no data rows")
        )
        gone = contract.required_names[-1]
        cases.append(
            Case(
                "missing_required_column",
                e,
                utf8(to_csv([{k: v for k, v in r.items() if k != gone} for r in good])),
                error=f"missing required column(s): {gone}",
            )
        )
        shouted = [f"  {name.upper().replace('_', ' ')} " for name in contract.names]
        cases.append(
            Case("header_case_and_spaces", e, utf8(to_csv(good, header=shouted)), loaded=2)
        )
        other = CONTRACTS[(i + 1) % len(CONTRACTS)]
        cases.append(
            Case(
                f"is_really_{other.entity}",
                e,
                utf8(to_csv(rows(other.entity, "wrong", 2))),
                error=f"its columns are those of {other.entity}: is the file misnamed?",
            )
        )
        cases.append(Case("crlf", e, utf8(to_csv(good, newline="\r\n")), loaded=2))
        shuffled = [{"Vendor Note": "x", **dict(reversed(r.items()))} for r in good]
        cases.append(Case("extra_and_shuffled_columns", e, utf8(to_csv(shuffled)), loaded=2))
    return cases


def _text_and_structure() -> list[Case]:
    return [
        Case("empty", "locations", b"", error="is empty"),
        Case("blank_lines_only", "locations", b"\n\n\n", error="header row"),
        Case(
            "no_header",
            "locations",
            utf8("L1,Main St,America/Chicago\nL2,Oak St,America/Chicago\n"),
            error="header row",
        ),
        Case(
            "semicolons_under_comma",
            "locations",
            utf8(to_csv(rows("locations", "semi"), delimiter=";")),
            error="set the source's format delimiter to ';'",
        ),
        Case(
            "tabs_under_comma",
            "locations",
            utf8(to_csv(rows("locations", "tab"), delimiter="\t")),
            error="delimiter to '\\t'",
        ),
        Case(
            "pipes_under_comma",
            "locations",
            utf8(to_csv(rows("locations", "pipe"), delimiter="|")),
            error="delimiter to '|'",
        ),
        Case(
            "semicolons_declared",
            "gl_expenses",
            utf8(to_csv(rows("gl_expenses", "semi", 2), delimiter=";")),
            loaded=2,
            group="semicolon",
        ),
        Case(
            "bom",
            "locations",
            codecs.BOM_UTF8 + utf8(to_csv(rows("locations", "bom"))),
            loaded=1,
            values={"location_id": "L1-bom-0"},
        ),
        Case(
            "bom_quoted_header",
            "locations",
            codecs.BOM_UTF8 + utf8('"location_id","location_name"\n"L1-bq","Main"\n'),
            loaded=1,
            values={"location_id": "L1-bq"},
        ),
        Case(
            "utf16_undeclared",
            "locations",
            to_csv(rows("locations", "u16"), delimiter="\t").encode("utf-16"),
            error="is UTF-16 text",
        ),
        Case(
            "utf16_declared",
            "locations",
            to_csv(rows("locations", "u16d", location_name="Zoë"), delimiter="\t").encode("utf-16"),
            loaded=1,
            values={"location_name": "Zoë"},
            group="utf-16",
        ),
        Case(
            "latin1_undeclared",
            "locations",
            to_csv(rows("locations", "l1", 3, location_name="Zoë")).encode("latin-1"),
            error="line 4: is not valid UTF-8",
        ),
        Case(
            "latin1_declared",
            "locations",
            to_csv(rows("locations", "l1d", location_name="Zoë Clinic")).encode("latin-1"),
            loaded=1,
            values={"location_name": "Zoë Clinic"},
            group="latin-1",
        ),
        Case(
            "cp1252_declared",
            "locations",
            to_csv(rows("locations", "w", location_name="“Main” €")).encode("cp1252"),
            loaded=1,
            values={"location_name": "“Main” €"},
            group="cp1252",
        ),
        Case(
            "cp1252_declared_as_latin1",
            "locations",
            to_csv(rows("locations", "wl", 2, location_name="“Main”")).encode("cp1252"),
            error="line 3: byte 0x93 is a control character in latin-1",
            group="latin-1",
        ),
        Case(
            "one_bad_byte",
            "locations",
            utf8(to_csv(rows("locations", "bb", 4))).replace(b"Main St", b"Main \xff", 1),
            error="line 2: is not valid UTF-8",
        ),
        Case(
            "quoted_newline",
            "locations",
            utf8(to_csv(rows("locations", "qn", 2, location_name="Main\nSt"))),
            loaded=2,
        ),
        Case(
            "quoted_newline_then_bad_row",
            "locations",
            utf8(
                to_csv(
                    [
                        *rows("locations", "qnb", 1, location_name="Two\nlines"),
                        *rows("locations", "qnc", 1, timezone="Nowhere/Land"),
                    ]
                )
            ),
            loaded=1,
            # Lines count records (files.py): the bad record is the second, line 3.
            rejected=((3, "timezone", "not an IANA time zone name"),),
        ),
        Case(
            "doubled_quotes",
            "locations",
            utf8(to_csv(rows("locations", "dq", location_name='The "Main" St'))),
            loaded=1,
            values={"location_name": 'The "Main" St'},
        ),
        Case(
            "quoted_delimiter",
            "locations",
            utf8(to_csv(rows("locations", "qd", location_name="Smith, Jones"))),
            loaded=1,
            values={"location_name": "Smith, Jones"},
        ),
        Case(
            "unquoted_delimiter_in_money",
            "charges",
            utf8(to_csv(rows("charges", "ud", 2))).replace(b",120.00\n", b",1,200.00\n", 1),
            loaded=1,
            rejected=((2, "(row)", "more fields than the header's 13"),),
        ),
        Case(
            "truncated_last_line",
            "claims",
            utf8(to_csv(rows("claims", "tr", 3)).rstrip("\n").rsplit(",", 2)[0]),
            loaded=2,
            # Two fields short: rejected whole, no value of it quoted (issue 22).
            rejected=((4, "(row)", "fewer fields (1) than the header's 3"),),
        ),
        Case(
            "truncated_inside_quotes",
            "locations",
            utf8(to_csv(rows("locations", "tq", 2)) + 'L9,"Main St'),
            error="a quoted field is never closed",
        ),
        Case(
            "no_final_newline",
            "locations",
            utf8(to_csv(rows("locations", "nf", 2)).rstrip("\n")),
            loaded=2,
        ),
        Case(
            "blank_lines_between",
            "payers",
            utf8(to_csv(rows("payers", "bl", 3)).replace("\n", "\n\n", 2)),
            loaded=3,
        ),
        Case(
            "mixed_line_endings",
            "payers",
            utf8(to_csv(rows("payers", "mle", 3)).replace("\n", "\r\n", 2)),
            loaded=3,
        ),
        Case(
            "trailing_delimiter",
            "payers",
            utf8(
                "\n".join(line + "," for line in to_csv(rows("payers", "td", 2)).splitlines())
                + "\n"
            ),
            loaded=2,
        ),
        Case(
            "duplicate_column",
            "payers",
            utf8("payer_id,payer_name,payer_name,financial_class\nP1,A,B,commercial\n"),
            error="two columns map to 'payer_name'",
        ),
        Case(
            "renamed_columns_unmapped",
            "payers",
            utf8("Ins Co,Plan,financial_class\nP1,Acme,commercial\n"),
            error="missing required column(s): payer_id, payer_name",
        ),
        Case(
            "renamed_columns_mapped",
            "payers",
            utf8("Ins Co,Plan,financial_class\nP-map,Acme,commercial\n"),
            loaded=1,
            values={"payer_id": "P-map", "payer_name": "Acme"},
            group="mapped",
        ),
        Case(
            "personal_extra_column",
            "payers",
            utf8(to_csv([{**r, "Patient Name": "Ada L"} for r in rows("payers", "pe")])),
            loaded=1,
            values={"_extra": None},
        ),
        Case(
            "header_repeated_inside",
            "payers",
            # Two exports pasted together: the second header is line 3.
            utf8(to_csv(rows("payers", "hr", 1)) + to_csv(rows("payers", "hr2", 1))),
            loaded=2,
            rejected=((3, "financial_class", "'financial_class' is not one of"),),
        ),
        Case(
            "very_long_text",
            "payers",
            utf8(to_csv(rows("payers", "long", payer_name="x" * 100_000))),
            loaded=1,
        ),
        Case(
            "nul_byte_in_text",
            "payers",
            utf8(to_csv(rows("payers", "nul", payer_name="Ac\x00me"))),
            loaded=1,
        ),
    ]


def _values() -> list[Case]:
    def one(name, entity, column, text, *, reason=None, value=None, **kw) -> Case:
        data = utf8(to_csv(rows(entity, name, 2, **{column: text})))
        if reason is None:
            return Case(name, entity, data, loaded=2, values=value or {}, **kw)
        return Case(name, entity, data, loaded=1, rejected=((3, column, reason),), **kw)

    ts = dt.datetime(2026, 1, 5, 8, 0)
    return [
        one("excel_serial_date", "claims", "submitted_date", "46029", reason="Excel serial"),
        one("excel_serial_fraction", "charges", "service_date", "46027.5", reason="Excel"),
        one("day_first_date", "claims", "submitted_date", "07/01/2026", reason="not a date"),
        one("day_first_dashes", "claims", "submitted_date", "07-01-2026", reason="not a date"),
        one(
            "day_first_timestamp",
            "provider_slots",
            "slot_start",
            "05/01/2026 08:00",
            reason="not a timestamp",
        ),  # fmt: skip
        one(
            "time_without_seconds",
            "provider_slots",
            "slot_start",
            "2026-01-05 08:00",
            value={"slot_start": ts},
        ),  # fmt: skip
        one(
            "iso_t_separator",
            "provider_slots",
            "slot_start",
            "2026-01-05T08:00:00",
            value={"slot_start": ts},
        ),  # fmt: skip
        one(
            "offset",
            "provider_slots",
            "slot_start",
            "2026-01-05 08:00+05:30",
            value={"slot_start": ts, "slot_start_offset_min": 330},
        ),  # fmt: skip
        one(
            "zulu",
            "provider_slots",
            "slot_start",
            "2026-01-05T08:00:00Z",
            value={"slot_start": ts, "slot_start_offset_min": 0},
        ),  # fmt: skip
        one(
            "offset_too_wide",
            "provider_slots",
            "slot_start",
            "2026-01-05 08:00+15:00",
            reason="beyond ±14:00",
        ),  # fmt: skip
        one(
            "date_in_timestamp",
            "provider_slots",
            "slot_start",
            "2026-01-05",
            reason="a date without a time",
        ),  # fmt: skip
        one(
            "am_pm_time",
            "provider_slots",
            "slot_start",
            "2026-01-05 8:00 AM",
            reason="not a timestamp",
        ),  # fmt: skip
        one("dollar_sign", "charges", "charge_amount", "$120.00", reason="currency symbols"),
        one("thousands", "charges", "charge_amount", "1,200.00", reason="thousands separators"),
        one("negative_money", "transactions", "amount", "-80.00", reason="is negative"),
        one("accounting_negative", "transactions", "amount", "(80.00)", reason="plain decimal"),
        one("padded_money", "transactions", "amount", "  80.5  ", value={"amount": 80.5}),
        one(
            "money_just_below_limit",
            "gl_expenses",
            "amount",
            "999999999999.99",
            value={"amount": 999999999999.99},
        ),  # fmt: skip
        one("money_too_large", "gl_expenses", "amount", "1000000000000", reason="too large"),
        one("money_huge", "gl_expenses", "amount", "1" + "0" * 40, reason="too large"),
        one("int_overflow", "charges", "units", "9" * 25, reason="too large"),
        one("scientific", "budget", "amount", "1.2e3", reason="plain decimal"),
        one("european_decimal", "budget", "amount", "12,5", reason="plain decimal"),
        one("unknown_enum", "payers", "financial_class", "tricare", reason="is not one of"),
        one(
            "enum_case_spaces",
            "payers",
            "financial_class",
            "  Medicare ",
            value={"financial_class": "medicare"},
        ),  # fmt: skip
        one(
            "far_future_date", "staff", "termination_date", "9999-12-31", reason="plausible range"
        ),  # fmt: skip
        one(
            "far_future_timestamp",
            "appointments",
            "booked_at",
            "2206-01-02 09:00",
            reason="plausible range",
        ),  # fmt: skip
        one("before_1900", "staff", "hire_date", "1899-06-30", reason="plausible range"),
        one("placeholder_1900", "staff", "hire_date", "1900-01-01", reason="plausible range"),
        one(
            "old_but_plausible",
            "staff",
            "hire_date",
            "1901-03-04",
            value={"hire_date": dt.date(1901, 3, 4)},
        ),  # fmt: skip
        one("null_text", "staff", "termination_date", "NULL", reason="not a date"),
        one(
            "bad_timezone",
            "locations",
            "timezone",
            "Central Standard Time",
            reason="not an IANA time zone name",
        ),  # fmt: skip
        one(
            "timezone_lower_case",
            "locations",
            "timezone",
            "america/chicago",
            value={"timezone": "america/chicago"},
        ),  # fmt: skip
    ]


def _keys_and_names() -> list[Case]:
    leading = rows("claims", "lz", 1)
    leading[0]["claim_id"] = "000420"
    leading[0]["payer_id"] = "007"
    dupes = rows("payers", "dup", 1)
    return [
        Case(
            "leading_zeros",
            "claims",
            utf8(to_csv(leading)),
            loaded=1,
            values={"claim_id": "000420", "payer_id": "007"},
        ),
        Case(
            "duplicate_keys",
            "payers",
            utf8(to_csv([*dupes, {**dupes[0], "payer_name": "Later"}])),
            loaded=2,
            duplicate_keys=1,
        ),
        Case(
            "same_key_three_times",
            "claims",
            utf8(to_csv(rows("claims", "k3", 1) * 3)),
            loaded=3,
            duplicate_keys=2,
        ),
        # CONTRACTS.md: the entity is taken from the file's name wherever it arrives (the
        # folder only names the source whose configuration applies).
        Case(
            "wrong_source_folder",
            "payers",
            utf8(to_csv(rows("payers", "wsf"))),
            source="scheduling",
            loaded=1,
        ),
        Case(
            "unknown_source_folder",
            "payers",
            utf8(to_csv(rows("payers", "usf"))),
            source="lab",
            loaded=1,
        ),
        Case(
            "loose_in_the_inbox",
            "payers",
            utf8(to_csv(rows("payers", "loose"))),
            source="",
            loaded=1,
        ),
        Case(
            "unknown_entity",
            "payers",
            utf8(to_csv(rows("payers", "ue"))),
            file_name="invoices_2026-01.csv",
            error="unknown entity",
        ),
        Case(
            "unsupported_type",
            "payers",
            utf8(to_csv(rows("payers", "txt"))),
            file_name="payers_export.txt",
            error="unsupported file type",
        ),
        Case(
            "upper_case_extension",
            "payers",
            utf8(to_csv(rows("payers", "uce"))),
            file_name="PAYERS_UPPER.CSV",
            loaded=1,
        ),
        Case(
            "misnamed_hint",
            "claims",
            utf8(to_csv(rows("payers", "mh"))),
            error="its columns are those of payers: is the file misnamed?",
        ),
    ]


def _containers() -> list[Case]:
    slots = [list(VALID["provider_slots"])]
    data = [*slots, ["007", "L1", dt.datetime(2026, 1, 5, 8, 30), 20]]
    notes = [["These are the provider slots for January."]]
    gz_good = gzip.compress(utf8(to_csv(rows("claims", "gz", 2))))
    claims = pl.DataFrame(
        {
            "claim_id": ["PQ-1", "PQ-2"],
            "payer_id": ["PY1", None],
            "submitted_date": [dt.date(2026, 1, 7), dt.date(2026, 1, 8)],
        }
    )

    def parquet(path: Path) -> None:
        claims.write_parquet(path)

    return [
        Case(
            "xlsx_typed",
            "provider_slots",
            _xlsx({"Slots": data}),
            file_name="provider_slots_typed.xlsx",
            loaded=1,
            values={"provider_id": "007", "slot_start": dt.datetime(2026, 1, 5, 8, 30)},
        ),
        Case(
            "xlsx_several_sheets_configured",
            "provider_slots",
            _xlsx({"Notes": notes, "Data": data}),
            file_name="provider_slots_sheets.xlsx",
            loaded=1,
            group="mapped",
        ),
        Case(
            "xlsx_several_sheets_unconfigured",
            "provider_slots",
            _xlsx({"Notes": notes, "Data": data}),
            file_name="provider_slots_sheets_default.xlsx",
            error="the workbook has sheets 'Notes', 'Data': set the source's format sheet",
        ),
        Case(
            "xlsx_configured_sheet_missing",
            "provider_slots",
            _xlsx({"Sheet1": data}),
            file_name="provider_slots_nosheet.xlsx",
            error="has no sheet named 'Data'",
            group="mapped",
        ),
        Case(
            "xlsx_serial_number_date",
            "claims",
            _xlsx({"Claims": [["claim_id", "payer_id", "submitted_date"], ["X1", "P", 46029]]}),
            file_name="claims_serial.xlsx",
            rejected=((2, "submitted_date", "Excel serial"),),
        ),
        Case(
            "xlsx_that_is_text",
            "claims",
            utf8(to_csv(rows("claims", "fake"))),
            file_name="claims_fake.xlsx",
            error="cannot be read as an XLSX workbook",
        ),
        Case("gzip", "claims", gz_good, file_name="claims_gz.csv.gz", loaded=2),
        Case(
            "gzip_truncated",
            "claims",
            gz_good[: len(gz_good) // 2],
            file_name="claims_cut.csv.gz",
            error="cannot be decompressed",
        ),
        Case(
            "gzip_that_is_text",
            "claims",
            utf8(to_csv(rows("claims", "ngz"))),
            file_name="claims_plain.csv.gz",
            error="cannot be decompressed",
        ),
        Case(
            "parquet",
            "claims",
            parquet,
            file_name="claims_typed.parquet",
            loaded=1,
            rejected=((3, "payer_id", "required value is missing"),),
        ),
        Case(
            "parquet_corrupt",
            "claims",
            b"PAR1 this is not really parquet",
            file_name="claims_corrupt.parquet",
            error="cannot be read as Parquet",
        ),
    ]


def _formula_xlsx(path: Path) -> None:
    """Charges written by a program that computes no formula (XlsxWriter stores 0)."""
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Charges")
    good = rows("charges", "fx", 2)
    sheet.write_row(0, 0, list(good[0]))
    for r, record in enumerate(good, start=1):
        sheet.write_row(r, 0, list(record.values()))
    sheet.write_formula(2, list(good[0]).index("charge_amount"), "=200+40")
    book.close()


def _typed_cells_xlsx(path: Path) -> None:
    """Slots with a TRUE and a #DIV/0! cell in `slot_minutes`, and one good row."""
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Slots")
    sheet.write_row(0, 0, ["provider_id", "location_id", "slot_start", "slot_minutes"])
    sheet.write_row(1, 0, ["DR-xb", "L1", "2026-01-05 08:00", 20])
    sheet.write_row(2, 0, ["DR-xb", "L1", "2026-01-05 08:20", True])
    sheet.write_row(3, 0, ["DR-xb", "L1", "2026-01-05 08:40"])
    sheet.write_formula(3, 3, "=20/0", None, "#DIV/0!")
    book.close()


def _parquet_writer(table) -> Callable[[Path], None]:
    import pyarrow.parquet as pq

    def write(path: Path) -> None:
        pq.write_table(table, path)

    return write


def _issue21() -> list[Case]:
    """Issue 21: what a hostile inbox still broke, each with the outcome it now gets."""
    import pyarrow as pa

    loc = rows("locations", "i21", 2)
    header = ",".join(loc[0])
    nested_key = pa.table(
        {
            "claim_id": pa.array([{"id": "CLS1"}]),
            "payer_id": ["PY1"],
            "submitted_date": ["2026-01-07"],
        }
    )
    nested_extra = pa.table(
        {
            "claim_id": ["PQ-nx"],
            "payer_id": ["PY1"],
            "submitted_date": ["2026-01-07"],
            "tags": pa.array([["a", "b"]]),
        }
    )
    return [
        Case(
            "non_utf8_file_name",
            "claims",
            utf8(to_csv(rows("claims", "nu8", 1))),
            # A Latin-1 é in the name: bytes that are not UTF-8, as Linux hands them over.
            file_name=os.fsdecode(b"claims_\xe9.csv"),
            loaded=1,
            values={"_source_file": "claims_\\xe9.csv"},
        ),
        Case(
            "posting_in_the_future",
            "charges",
            utf8(to_csv(rows("charges", "fut", 2, posted_date="2031-11-23"))),
            loaded=1,
            rejected=((3, "posted_date", "is after the day the file was landed"),),
        ),
        Case(
            "transaction_posted_in_the_future",
            "transactions",
            utf8(to_csv(rows("transactions", "fut", 2, posted_date="2031-11-23"))),
            loaded=1,
            rejected=((3, "posted_date", "a posting cannot be in the future"),),
        ),
        Case(
            "xlsx_formula_never_calculated",
            "charges",
            _formula_xlsx,
            file_name="charges_formula.xlsx",
            loaded=1,
            rejected=((3, "(row)", "charge_amount (cell M3) holds a formula whose result"),),
        ),
        Case(
            "xlsx_true_and_div0",
            "provider_slots",
            _typed_cells_xlsx,
            file_name="provider_slots_typed_cells.xlsx",
            loaded=1,
            rejected=(
                (3, "(row)", "slot_minutes (cell D3) holds TRUE/FALSE"),
                (4, "(row)", "slot_minutes (cell D4) holds the Excel error #DIV/0!"),
            ),
        ),
        Case(
            "parquet_struct_in_key",
            "claims",
            _parquet_writer(nested_key),
            file_name="claims_struct.parquet",
            error="column 'claim_id' holds nested values",
        ),
        Case(
            "parquet_nested_extra_column",
            "claims",
            _parquet_writer(nested_extra),
            file_name="claims_nested_extra.parquet",
            loaded=1,
            values={"_extra": '{"tags":"[\\"a\\",\\"b\\"]"}'},
        ),
        Case(
            "bare_quote",
            "locations",
            utf8(f'{header}\nL1-bq2,Main "St,America/Chicago\nL2-bq2,Oak,America/Chicago\n'),
            error='line 2: a quote (") inside a value that is not quoted',
        ),
        Case(
            "gzip_named_csv",
            "locations",
            gzip.compress(utf8(to_csv(rows("locations", "gzc")))),
            error="is gzip-compressed but its name does not say so",
        ),
        Case(
            "cr_only_line_endings",
            "locations",
            utf8(to_csv(rows("locations", "cro", 2), newline="\r")),
            error="carriage return alone",
        ),
        Case(
            "utf16_without_bom",
            "locations",
            to_csv(rows("locations", "u16n")).encode("utf-16-le"),
            error="UTF-16 text without a byte order mark; set the source's format encoding "
            "to utf-16-le",
        ),
        Case(
            "utf32",
            "locations",
            to_csv(rows("locations", "u32")).encode("utf-32"),
            error="is UTF-32 text",
        ),
        Case(
            "arabic_indic_digit",
            "charges",
            utf8(to_csv(rows("charges", "ar", 2, units="\u0662"))),
            loaded=1,
            rejected=((3, "units", "is not a whole number"),),
        ),
        Case(
            "backslash_escaped_quotes",
            "locations",
            utf8(f'{header}\nL1-bs,"The \\"Main\\" St",America/Chicago\n'),
            error="line 2: a quote escaped with a backslash",
        ),
        Case(
            "leap_second",
            "provider_slots",
            utf8(to_csv(rows("provider_slots", "ls", 2, slot_start="2026-01-05 23:59:60"))),
            loaded=1,
            rejected=((3, "slot_start", "has second 60"),),
        ),
        Case(
            "nul_byte_in_key",
            "claims",
            utf8(to_csv(rows("claims", "nk", 2, claim_id="CL\x00-nk"))),
            loaded=1,
            rejected=((3, "claim_id", "NUL byte"),),
        ),
    ]


def build_corpus() -> list[Case]:
    cases = [
        *_families(),
        *_text_and_structure(),
        *_values(),
        *_keys_and_names(),
        *_containers(),
        *_issue21(),
    ]
    files = [(c.folder, c.file) for c in cases]
    assert len(set(files)) == len(files), "two cases write the same file"
    assert {c.entity for c in cases} == set(BY_ENTITY)
    return cases
