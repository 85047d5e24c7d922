"""The benchmark harness: three practice sizes, every stage timed, against a bare-DuckDB floor.

`python -m bench.run` (see run.py). Not part of the product: nothing in pipelines/ or
dashboards/ imports it.
"""
