"""Shared fixtures: the fake Strava API on loopback with a fake clock, and a CLI runner configured against it."""

import io
import json
from datetime import date
from pathlib import Path

import pytest

from strava_pipeline.clock import FakeClock
from strava_pipeline.fake_api import AthleteSpec, FakeStrava
from strava_pipeline.warehouse import open_warehouse
from tests.support.reference import NOW, REFERENCE, in_ci

# The longest modules first: the suite runs in two processes (pytest-xdist, `-n 2 --dist loadfile` in pyproject.toml:
# a module and its fixtures stay in one process; three processes on two cores measured slower), and a long module
# that starts last would keep one core busy alone.
# Measured with --durations on 2 cores (seconds of the module's slowest tests): reports 272, resume 133, many athletes
# 128, faults 114, budget runs 111, zones per athlete 72, orchestration 71, dbt build 63, privacy test 59, kill
# steps 58, postgres 53, archive import 40, kill imports 33, extract 31, one command 28.
LONGEST_FIRST = (
    "test_reports.py",
    "test_resume.py",
    "test_many_athletes.py",
    "test_faults.py",
    "test_budget_runs.py",
    "test_zones_per_athlete.py",
    "test_orchestration.py",
    "test_dbt_build.py",
    "test_privacy_test_can_fail.py",
    "test_kill_steps.py",
    "test_postgres_warehouse.py",
    "test_archive_import.py",
    "test_kill_imports.py",
    "test_extract.py",
    "test_one_command.py",
    "test_dedupe.py",
    "test_analytics_marts.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


# files every reference-based test module reads: in CI their absence is an error, not a reason to skip
REFERENCE_FILES = ("api/activities_page_001.json", "files/activities.csv", "files/sample_export.zip")


def missing_reference_files() -> list[str]:
    return [name for name in REFERENCE_FILES if not (REFERENCE / name).is_file()]


def pytest_configure(config) -> None:
    missing = missing_reference_files()
    if missing and in_ci():
        # modules skip themselves when the reference files are absent: fine on a laptop, silent rot in CI
        raise pytest.UsageError(
            f"CI=true but the reference files are missing from {REFERENCE} ({', '.join(missing)}): "
            "check out ../shared/strava-reference beside the repository or set STRAVA_REFERENCE_DIR."
        )


SMALL_ATHLETE = AthleteSpec(seed=3, first_day=date(2025, 6, 1), activities_per_week=4.0, stream_scale=0.05)


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def fake(clock):
    with FakeStrava(athlete=SMALL_ATHLETE, clock=clock) as server:
        yield server


class Cli:
    """Runs `strava.py` in-process (same code path as the command line) against a fake API."""

    def __init__(self, fake, clock, data_dir: Path, monkeypatch, refresh_token: str) -> None:
        self.fake, self.clock, self.data_dir = fake, clock, data_dir
        self.base_url = fake.start() if not getattr(fake, "base_url", None) else fake.base_url
        monkeypatch.setenv("SOURCES__STRAVA__BASE_URL", self.base_url)
        monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__ACCESS_TOKEN_URL", fake.token_url)
        monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__CLIENT_ID", fake.client_id)
        monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET", fake.client_secret)
        monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN", refresh_token)
        self.refresh_token = refresh_token

    def __call__(self, *args: str):
        from strava_pipeline.cli import main

        out, err = io.StringIO(), io.StringIO()
        # the import alone: the steps after it (dbt, reports, maps) have their own tests
        rc = main(["--data-dir", str(self.data_dir), "--import-only", *args], clock=self.clock, out=out, err=err)
        return rc, out.getvalue(), err.getvalue()

    def sql(self, query: str):
        with open_warehouse(self.data_dir / "strava.duckdb") as con:
            return con.sql(query).fetchall()

    def count(self, table: str) -> int:
        return self.sql(f"select count(*) from strava.{table}")[0][0]

    def state(self) -> dict:
        path = self.data_dir / "pipelines" / "strava_datastack" / "state.json"
        return json.loads(path.read_text())


@pytest.fixture
def cli(fake, clock, tmp_path, monkeypatch):
    return Cli(fake, clock, tmp_path / "data", monkeypatch, fake.issue_refresh_token())
