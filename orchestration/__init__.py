"""Dagster orchestration of the Strava data stack."""
