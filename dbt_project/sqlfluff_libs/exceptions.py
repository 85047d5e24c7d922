"""dbt's `exceptions` for sqlfluff's Jinja templater: a compile-time check renders nothing."""


def raise_compiler_error(message: str) -> str:
    return ""


def warn(message: str) -> str:
    return ""
