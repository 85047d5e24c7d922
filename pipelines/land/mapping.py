"""Apply a route to a file: its text columns in, the contract's columns (as text) out.

For each contract column the route says where its value comes from (a column of the
file, a constant, a derived SQL expression, or the sign of an amount), then a value map
and a format turn the vendor's writing into the contract's. The result is judged by the
contract's own validation (validate.check), exactly as a file already in the contract's
shape; what the mapping itself cannot read (a value outside the map, a date matching no
pattern) rejects the row with the column and the reason, never the value of a personal
column. Rows the route's `where` does not admit are counted as filtered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.core.contracts import Contract, Privacy, contract_for
from pipelines.core.mapping_config import (
    DATE_KINDS,
    NUMBER_KINDS,
    ColumnSpec,
    Route,
    expression_columns,
)
from pipelines.land import formats
from pipelines.land.expressions import Evaluator, bind
from pipelines.land.read import PERSONAL_EXTRA, FileError, _normalise_name
from pipelines.land.validate import Checked, check

_META = ("_line", "_extra", "_problem")


def _key(values: pl.Expr) -> pl.Expr:
    """How a value-map key is compared: trimmed, case-folded, inner spaces as one."""
    return values.str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ")


def _map_key(text: str) -> str:
    return " ".join(text.split()).lower()


@dataclass(frozen=True)
class _Rule:
    column: str
    failed: pl.Expr
    reason: pl.Expr


@dataclass(frozen=True)
class Mapped:
    """One batch shaped as the contract (text), with the mapping's own rejections."""

    frame: pl.DataFrame  # contract names, `_line`, `_extra`, `_problem`
    errors: pl.DataFrame  # `_line`, `column`, `reason`
    filtered: int  # rows the route's `where` left out


class Mapper:
    """A route bound to one file's columns; `apply` maps each batch."""

    def __init__(self, route: Route, vendor: dict[str, str], columns: list[str]) -> None:
        self.route = route
        self.contract: Contract = contract_for(route.entity)
        names = set(columns)
        by_target = {t: _normalise_name(v) for v, t in vendor.items()}
        derived: dict[str, str] = {}
        used: set[str] = set()
        self._outputs: list[pl.Expr] = []
        self._rules: list[_Rule] = []
        missing = []
        for col in self.contract.columns:
            spec = route.columns.get(col.name)
            if spec is None:
                found = by_target.get(col.name, col.name)
                if found in names:
                    spec = ColumnSpec(column=found)
                elif col.required:
                    missing.append(col.name)
                    continue
                else:
                    self._outputs.append(pl.lit(None, pl.String).alias(col.name))
                    continue
            source = self._source(spec, col.name, names, derived, used)
            self._outputs.append(self._shaped(spec, col.name, source).alias(col.name))
        if missing:
            raise FileError(
                f"route {route.label!r}: required column(s) {', '.join(missing)} found in "
                "neither the file nor the route's columns (add a rename, constant or expr)"
            )
        where = bind(route.where, names, "the route's where") if route.where else None
        self._evaluator = Evaluator(where, derived)
        self._extras = [
            c
            for c in columns
            if route.keep_extra and c not in used and not PERSONAL_EXTRA.search(c)
        ]

    def _source(
        self, spec: ColumnSpec, target: str, names: set[str], derived: dict, used: set[str]
    ) -> pl.Expr:
        if spec.constant is not None:
            return pl.lit(spec.constant, pl.String)
        if spec.expr is not None:
            derived[f"__derived__{target}"] = bind(spec.expr, names, f"columns.{target}.expr")
            used.update(_normalise_name(c) for c in expression_columns(spec.expr))
            return pl.col(f"__derived__{target}")
        name = _normalise_name(spec.column or spec.sign_of or "")
        if name not in names:
            raise FileError(
                f"route {self.route.label!r}: column {spec.column or spec.sign_of!r} (for "
                f"{target}) is not in the file"
            )
        used.add(name)
        if spec.sign_of is not None:
            sign = formats.sign_of(pl.col(name), spec.format)
            self._rules.append(
                _Rule(
                    target,
                    pl.col(name).is_not_null() & sign.is_null(),
                    self._reason(target, spec.sign_of, "is not a number: its sign picks nothing"),
                )
            )
            return sign
        return pl.col(name)

    def _reason(self, target: str, origin: str | None, problem: str) -> pl.Expr:
        """`target: 'value' (column X) problem`, the value withheld for personal data.

        `origin` is the file's column as the config names it; without one (a constant,
        an expression) the reason names the config's column only.
        """
        col = self.contract.column(target)
        where = f" (column {origin})" if origin else ""
        if origin is None or col.privacy is not Privacy.NONE:
            return pl.lit(f"{target}: the value{where} {problem}")
        value = pl.col(_normalise_name(origin))
        return pl.concat_str([pl.lit(f"{target}: '"), value, pl.lit(f"'{where} {problem}")])

    def _shaped(self, spec: ColumnSpec, target: str, value: pl.Expr) -> pl.Expr:
        """The value map, then the format, each adding a rejection rule when it fails."""
        col = self.contract.column(target)
        origin = spec.column
        if spec.values is not None:
            keys = {_map_key(k): v for k, v in spec.values.items()}
            key = _key(value)
            mapped = key.replace_strict(list(keys), list(keys.values()), default=None,
                                        return_dtype=pl.String)  # fmt: skip
            shown = ", ".join(spec.values)
            self._rules.append(
                _Rule(
                    target,
                    value.is_not_null() & ~key.is_in(list(keys)),
                    self._reason(target, origin, f"is not in the column's value map ({shown})"),
                )
            )
            value = mapped
        if col.kind in DATE_KINDS and spec.format.is_date:
            value, failed = formats.date_text(value, col.kind, spec.format)
            shown = ", ".join(spec.format.patterns)
            self._rules.append(
                _Rule(
                    target,
                    failed,
                    self._reason(target, origin, f"matches none of the patterns {shown}"),
                )  # fmt: skip
            )
        elif col.kind in NUMBER_KINDS and spec.format.is_number and spec.sign_of is None:
            value, failed = formats.number_text(value, spec.format)
            self._rules.append(
                _Rule(
                    target,
                    failed,
                    self._reason(target, origin, "is not a number in the column's format"),
                )  # fmt: skip
            )
        return value

    def apply(self, raw: pl.DataFrame) -> Mapped:
        data = [c for c in raw.columns if c not in _META]
        raw = raw.with_columns(pl.col(data).str.strip_chars().replace("", None))
        if "_problem" not in raw.columns:
            raw = raw.with_columns(pl.lit(None, pl.String).alias("_problem"))
        received = raw.height
        if self._evaluator and raw.height:
            evaluated = self._evaluator.evaluate(raw.select("_line", *data))
            raw = raw.hstack(evaluated).filter(pl.col("__keep") | pl.col("_problem").is_not_null())
        if self._extras:
            extra = pl.struct(self._extras).struct.json_encode()
        else:
            extra = pl.lit(None, pl.String)
        frame = raw.select(
            pl.col("_line").cast(pl.Int64), *self._outputs, extra.alias("_extra"), "_problem"
        )
        sound = raw.filter(pl.col("_problem").is_null())
        errors = [
            sound.filter(rule.failed.fill_null(False)).select(
                "_line", pl.lit(rule.column).alias("column"), rule.reason.alias("reason")
            )
            for rule in self._rules
        ]
        schema = {"_line": pl.Int64, "column": pl.String, "reason": pl.String}
        errors_frame = pl.concat(
            [e.cast(schema) for e in errors] or [pl.DataFrame(schema=schema)]
        ).sort("_line", maintain_order=True)
        return Mapped(frame, errors_frame, received - raw.height)


def judge(mapped: Mapped, contract: Contract, landed_on: date | None = None) -> Checked:
    """The contract's validation of a mapped batch, with the mapping's rejections added.

    Where the mapping already rejected a value, validation's reason for that column is
    left out: "matches none of the patterns" says more than "is not a date".
    """
    checked = check(mapped.frame, contract, landed_on)
    if mapped.errors.is_empty():
        return checked
    bad_lines = mapped.errors.get_column("_line").unique()
    later = checked.errors.join(mapped.errors.select("_line", "column"), on=["_line", "column"],
                                how="anti")  # fmt: skip
    errors = pl.concat([mapped.errors, later]).sort("_line", maintain_order=True)
    mask = checked.rejected_mask | mapped.frame.get_column("_line").is_in(bad_lines)
    good = checked.good.filter(~pl.col("_line").is_in(bad_lines))
    return Checked(good=good, errors=errors, rejected_mask=mask)
