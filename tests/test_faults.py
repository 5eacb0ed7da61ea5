"""Faults across the import, each survived with nothing lost and a clear message: a 5xx storm longer than the retry
budget, a disk that fills up during a load, the warehouse held by another program, damaged state files, a clock
that jumps back. After each, a normal run completes the warehouse, and answers already fetched are not asked again."""

import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from strava_pipeline.api.client import MAX_ATTEMPTS
from strava_pipeline.fake_api import AthleteSpec, FakeStrava, RateLimits
from tests.support.killrun import snapshot

ROOT = Path(__file__).resolve().parents[1]


def queued_streams(cli) -> int:
    return cli.sql(
        "select count(*) from strava.activities a where not coalesce(a.manual, false) and a.id not in "
        "(select activity_id from strava.fetch_log where kind = 'streams')"
    )[0][0]


# ------------------------------------------------------------------------------------------ 5xx storm


def test_a_5xx_storm_longer_than_the_retry_budget_stops_and_marks_nothing_done(cli, fake):
    fake.faults.add("5xx", count=100_000, path=r"/streams", status=503)
    rc, out, err = cli("--start-date", "2025-10-01")
    assert rc == 0, err
    # three items in a row failed after all their retries: an outage, the run stops instead of burning the budget
    assert "Stopped: Strava failed 3 streams requests in a row" in out and "HTTP 503" in out, out
    assert fake.counts()["GET /activities/{id}/streams"] == 3 * MAX_ATTEMPTS
    assert cli.sql("select count(*) from strava.fetch_log where kind = 'streams'") == [(0,)]
    assert cli.count("activity_details") == 3  # what did work is kept
    queued = queued_streams(cli)
    fake.faults.clear()
    fake.reset_log()
    rc, out, err = cli("--start-date", "2025-10-01")
    assert rc == 0, err
    assert queued_streams(cli) == 0
    assert fake.counts()["GET /activities/{id}/streams"] == queued  # each asked once more, none twice
    assert fake.counts()["GET /activities/{id}"] == cli.count("activity_details") - 3


# ------------------------------------------------------------------------------------------ clock jumps back


def test_a_clock_that_jumps_back_provokes_no_429(cli, fake, clock):
    fake.set_usage(read_15min=90, read_daily=200, overall_15min=90, overall_daily=200)
    rc, out, err = cli("--start-date", "2025-06-01", "--no-detail")
    assert rc == 0, err
    clock.set(clock.now() - 2 * 3600)  # NTP fixed a clock that ran two hours ahead
    fake.clock.set(clock.now() + 2 * 3600)  # Strava's clock did not move back
    rc, out, err = cli("--start-date", "2025-06-01")
    assert rc == 0, err
    assert fake.count_429 == 0


# ------------------------------------------------------------------------------------------ damaged state files


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("ratelimit.json", b'{"observed_at": "x", "counters": {'),
        ("ratelimit.json", b"\x00" * 64),
        ("api_journal.sqlite", b"SQLite format 3\x00" + b"\x13" * 5000),
        ("pipelines/strava_datastack/state.json", b'{"_state_version": 3, "sources": {"strava": {"reso'),
        ("pipelines/strava_datastack/state.json", b""),
    ],
)
def test_a_damaged_state_file_costs_no_data(cli, fake, name, damage):
    assert cli("--start-date", "2025-10-01")[0] == 0
    before = snapshot(cli.data_dir)
    path = cli.data_dir / name
    assert path.exists() or name == "api_journal.sqlite"
    path.write_bytes(damage)
    rc, out, err = cli("--start-date", "2025-10-01")
    assert "Traceback" not in err
    if rc == 2:
        assert err.count("\n") == 1 and name.split("/")[-1] in err  # one sentence naming the file
        return
    assert rc == 0, err
    assert snapshot(cli.data_dir) == before


# ------------------------------------------------------------------------------------------ other processes


@pytest.fixture(scope="module")
def server():
    limits = RateLimits(overall_15min=100000, overall_daily=1000000, read_15min=100000, read_daily=1000000)
    spec = AthleteSpec(seed=9, first_day=None, n_activities=120, stream_scale=0.5)
    with FakeStrava(athlete=spec, limits=limits) as fake:
        yield fake


def cli_process(fake, data_dir: Path, token: str, preexec=None, extra=()) -> subprocess.Popen:
    env = {
        **os.environ,
        "SOURCES__STRAVA__BASE_URL": fake.base_url,
        "SOURCES__STRAVA__CREDENTIALS__ACCESS_TOKEN_URL": fake.token_url,
        "SOURCES__STRAVA__CREDENTIALS__CLIENT_ID": fake.client_id,
        "SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET": fake.client_secret,
        "SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN": token,
    }
    return subprocess.Popen(
        [sys.executable, "strava.py", "--data-dir", str(data_dir), "--start-date", "2000-01-01", "--import-only"]
        + list(extra),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )


def run(fake, data_dir, token, preexec=None, extra=()) -> tuple[int, str, str]:
    proc = cli_process(fake, data_dir, token, preexec, extra)
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


def api_gets(fake) -> list:
    return [(e.path, tuple(sorted(e.query.items()))) for e in fake.log if e.method == "GET" and e.status == 200]


@pytest.mark.slow
def test_a_full_disk_during_a_load_loses_nothing_and_the_next_run_asks_nothing_again(server, tmp_path):
    reference = tmp_path / "reference"
    assert run(server, reference, server.issue_refresh_token())[0] == 0
    data_dir, token = tmp_path / "data", server.issue_refresh_token()
    # the listing and profile first (a small warehouse), then the big load of detail and streams hits the limit
    assert run(server, data_dir, token, extra=("--no-detail", "--no-streams"))[0] == 0
    before = snapshot(data_dir)
    limit = (data_dir / "strava.duckdb").stat().st_size + 256 * 1024

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # a write past it fails with EFBIG

    server.reset_log()
    rc, out, err = run(server, data_dir, token, preexec=small_disk)
    fetched = set(api_gets(server))
    assert rc != 0 and "Traceback" not in err, out + err
    assert err.strip().count("\n") == 0 and ("disk" in err.lower() or "space" in err.lower()), err
    after = snapshot(data_dir)  # the warehouse opens; the profile committed before the load that failed
    for table in ("activities", "activity_details", "activity_streams", "fetch_log"):
        assert after[table] == before[table], table
    server.reset_log()
    rc, out, err = run(server, data_dir, token)
    assert rc == 0, err
    again = set(api_gets(server))
    repeated = {g for g in again & fetched if not g[0].endswith("/athlete/activities")}
    # the journal is on the full disk too: the answers after its last successful write are asked again
    print(f"full disk: {len(fetched)} answers before the failure, {len(repeated)} asked again")
    assert len(repeated) <= 10, len(repeated)
    assert snapshot(data_dir) == snapshot(reference)


HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("create table if not exists other_program(x int)")
    print("holding", flush=True)
    time.sleep(120)
    """
)


@pytest.mark.slow
def test_a_warehouse_held_by_another_program_is_one_clear_sentence(server, tmp_path):
    data_dir, token = tmp_path / "data", server.issue_refresh_token()
    assert run(server, data_dir, token, extra=("--no-detail", "--no-streams"))[0] == 0
    before = snapshot(data_dir)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir / "strava.duckdb")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        rc, out, err = run(server, data_dir, token)
        print(f"refused after {time.monotonic() - started:.1f} s")
    finally:
        holder.kill()
        holder.wait()
    assert rc == 2 and "Traceback" not in err, out + err
    assert err.strip().count("\n") == 0 and "strava.duckdb" in err, err
    assert snapshot(data_dir) == before
    assert run(server, data_dir, token)[0] == 0
