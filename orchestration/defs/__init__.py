"""Dagster definitions, one module per integration: ingest (dlt), transform (dbt), reports, automation."""
