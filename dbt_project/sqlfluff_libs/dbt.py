"""dbt's cross-database macros for sqlfluff's Jinja templater (.sqlfluff `library_path`).

sqlfluff lints the SQL a model renders to without running dbt; these stand-ins render
each macro as the plain DuckDB expression it compiles to, so the surrounding SQL parses.
"""


def type_string() -> str:
    return "varchar"


def date_trunc(part: str, expr: str) -> str:
    return f"date_trunc('{part}', {expr})"


def dateadd(datepart: str, interval: object, from_date: str) -> str:
    return f"({from_date} + interval ({interval}) {datepart})"


def concat(fields: list[str]) -> str:
    return " || ".join(str(f) for f in fields)


def cast(field: str, type_: str) -> str:
    return f"cast({field} as {type_})"


def last_day(expr: str, part: str) -> str:
    return f"last_day({expr})"


def split_part(string: str, delimiter: str, part: object) -> str:
    return f"split_part({string}, {delimiter}, {part})"


def position(substring_text: str, string_text: str) -> str:
    return f"position({substring_text} in {string_text})"


def datediff(first_date: str, second_date: str, datepart: str) -> str:
    return f"date_diff('{datepart}', {first_date}, {second_date})"
