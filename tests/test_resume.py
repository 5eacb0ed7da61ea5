"""kill -9 at random moments, run again: the warehouse ends identical to an uninterrupted run, and a kill costs at
most the one request in flight (the response journal, strava_pipeline/api/journal.py)."""

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from strava_pipeline.fake_api import AthleteSpec, FakeStrava, RateLimits
from tests.support.killrun import FileClock, KillRig, snapshot

ROOT = Path(__file__).resolve().parents[1]


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
    # wait until the queue is being worked on (the run says how much is to go), then press Ctrl-C once
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("Activities to fetch:"):
            break
    assert seen and seen[-1].startswith("Activities to fetch:"), "".join(seen)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    out = "".join(seen) + out
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert "Stopped by Ctrl-C" in out + err
    run_to_end(server, data_dir, token)
    assert snapshot(data_dir) == snapshot(tmp_path / "reference")


# Strava's real limits on a simulated clock shared with the child processes: the kills land in rate-limit waits too
REAL = RateLimits()
KILL_SEEDS = (11, 12, 13, 14)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    work = tmp_path_factory.mktemp("killrig")
    clock = FileClock(work / "clock", start=datetime(2026, 11, 2, 6, 7, tzinfo=UTC).timestamp())
    spec = AthleteSpec(seed=7, first_day=date(2026, 8, 1), activities_per_week=6.0, stream_scale=0.1)
    with FakeStrava(athlete=spec, limits=REAL, clock=clock) as fake:
        env = {
            **os.environ,
            "SOURCES__STRAVA__BASE_URL": fake.base_url,
            "SOURCES__STRAVA__CREDENTIALS__ACCESS_TOKEN_URL": fake.token_url,
            "SOURCES__STRAVA__CREDENTIALS__CLIENT_ID": fake.client_id,
            "SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET": fake.client_secret,
        }
        args = ["--start-date", "2026-08-01", "--import-only"]
        rig = KillRig(fake, clock, env, args, work)
        env["SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN"] = fake.issue_refresh_token()
        reference, needed = rig.reference(work / "reference")
        yield rig, reference, needed
    clock.close()


@pytest.mark.slow
@pytest.mark.parametrize("seed", KILL_SEEDS)
def test_each_kill_costs_at_most_the_request_in_flight(rig, tmp_path, seed):
    rig, reference, needed = rig
    total = sum(needed.values())
    assert total > 150  # detail and streams of some 80 activities: more than one 15-minute window
    rig.env["SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN"] = rig.fake.issue_refresh_token()
    chain = rig.chain(tmp_path / "data", seed=seed, kills=3, max_requests=total, max_delay_s=0.25)
    print(f"\nseed {seed}: {chain}; uninterrupted run: {total} requests")
    assert chain.kills >= 1, chain
    assert snapshot(tmp_path / "data") == reference, chain
    # every run lists the backfill window once (a new `before` each run): that page is the price of a run, not of
    # a kill; everything else beyond the uninterrupted run is a repeat
    listing = sum(n for g, n in needed.items() if g.startswith("/api/v3/athlete/activities?"))
    extra = chain.requests - total - (chain.runs - 1) * listing
    assert chain.repeated <= chain.kills, chain
    assert extra <= chain.kills, chain
