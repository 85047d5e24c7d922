"""Orchestrate: the Dagster definitions that run the stages."""
