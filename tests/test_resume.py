"""kill -9 at random moments, run again: the warehouse ends identical to an uninterrupted run."""

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from strava_pipeline.fake_api import AthleteSpec, FakeStrava, RateLimits
from strava_pipeline.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[1]
# metadata that differs between runs by nature: load ids, row ids and fetch times
SKIP = {"_dlt_load_id", "_dlt_id", "fetched_at", "deleted_at"}
TABLES = (
    "activities",
    "activity_streams",
    "activity_details",
    "activity_laps",
    "activity_best_efforts",
    "fetch_log",
    "athlete",
    "gear",
)


def snapshot(data_dir: Path) -> dict:
    with open_warehouse(data_dir / "strava.duckdb") as con:
        out = {}
        for table in TABLES:
            cols = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = 'strava' "
                    "and table_name = ? order by column_name",
                    [table],
                ).fetchall()
                if c not in SKIP
            ]
            if not cols:
                out[table] = None
                continue
            collist = ", ".join(f'"{c}"' for c in cols)
            out[table] = (cols, con.execute(f"select count(*), sum(hash({collist})) from strava.{table}").fetchone())
        return out


@pytest.fixture(scope="module")
def server():
    limits = RateLimits(overall_15min=100000, overall_daily=1000000, read_15min=100000, read_daily=1000000)
    spec = AthleteSpec(seed=5, first_day=date(2026, 9, 1), activities_per_week=5.0, stream_scale=0.3)
    with FakeStrava(athlete=spec, limits=limits) as fake:
        yield fake


def cli_process(fake, data_dir: Path, refresh_token: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "SOURCES__STRAVA__BASE_URL": fake.base_url,
        "SOURCES__STRAVA__CREDENTIALS__ACCESS_TOKEN_URL": fake.token_url,
        "SOURCES__STRAVA__CREDENTIALS__CLIENT_ID": fake.client_id,
        "SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET": fake.client_secret,
        "SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN": refresh_token,
    }
    return subprocess.Popen(
        [sys.executable, "strava.py", "--data-dir", str(data_dir), "--start-date", "2026-09-01", "--import-only"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_to_end(fake, data_dir, token):
    proc = cli_process(fake, data_dir, token)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out


@pytest.mark.slow
def test_kill_at_random_points_then_resume_equals_uninterrupted_run(server, tmp_path):
    run_to_end(server, tmp_path / "reference", server.issue_refresh_token())
    reference = snapshot(tmp_path / "reference")
    assert reference["activity_streams"][1][0] > 0
    for seed in (1, 2, 3):
        rng = random.Random(seed)
        data_dir = tmp_path / f"killed-{seed}"
        token = server.issue_refresh_token()
        for _ in range(2):
            proc = cli_process(server, data_dir, token)
            time.sleep(rng.uniform(1.0, 6.0))
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
        run_to_end(server, data_dir, token)
        assert snapshot(data_dir) == reference, f"seed {seed}"


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_next_run_continues(server, tmp_path):
    run_to_end(server, tmp_path / "reference", server.issue_refresh_token())
    data_dir, token = tmp_path / "interrupted", server.issue_refresh_token()
    proc = cli_process(server, data_dir, token)
    deadline = time.monotonic() + 120
    # wait until the queue is being worked on, then press Ctrl-C once
    while not (data_dir / "strava.duckdb").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 130), err
    assert "Traceback" not in err
    if proc.returncode == 130:
        assert "Stopped by Ctrl-C" in out + err
    run_to_end(server, data_dir, token)
    assert snapshot(data_dir) == snapshot(tmp_path / "reference")
