"""dbt's `adapter` for sqlfluff's Jinja templater: a dispatched macro renders as a call.

The project's own dispatched macros (dbt_project/macros) compile to engine-specific SQL;
for linting, a function call of the macro's name with its arguments stands in for it.
"""


def dispatch(name: str, macro_namespace: str | None = None):
    def call(*args: object, **kwargs: object) -> str:
        values = [str(a) for a in args] + [str(v) for v in kwargs.values()]
        if name == "day_series":  # a query of days, not an expression
            return f"select unnest(generate_series({', '.join(values)})) as day"
        return f"{name}({', '.join(values)})"

    return call


def quote(identifier: str) -> str:
    return f'"{identifier}"'


def convert_type(table: object, index: int) -> str:
    return "varchar"


def add_query(*args: object, **kwargs: object) -> None:
    return None
