# Everyday commands (README, "For developers"). Each is one `uv run` away; the Makefile
# only names them, so CI (.ci/run) and a developer run the same checks.
.PHONY: setup fast test lint docs demo

setup:  ## the virtual environment from the lock file
	uv sync --frozen

fast: setup  ## the fast tier before every commit: no practice builds, no browser (< 3 min)
	uv run pytest -m "not slow and not extended" -q

test: setup  ## everything CI runs
	bash .ci/run

lint: setup  ## style, import arrows between stages, types, SQL
	uv run ruff check .
	uv run ruff format --check .
	uv run lint-imports
	uv run pyright
	uv run sqlfluff lint dbt_project

docs: setup  ## regenerate the contract tables and the dbt docs site (dbt_project/target)
	uv run python -m pipelines.land.contract_docs > docs/contracts.md
	uv run python -m pipelines.model.dbt_docs

demo: setup  ## the README's first command: the sample practice, then its dashboards
	uv run clinicops demo
