"""Multi-day imports under Strava's real limits with a fake clock: pacing, clean daily stops, exact resumption."""

import math
from datetime import UTC, datetime

import pytest

from strava_pipeline.clock import FakeClock
from strava_pipeline.fake_api import AthleteSpec, FakeStrava
from tests.conftest import Cli

DAY = 86400
START = datetime(2026, 11, 2, 6, 7, 0, tzinfo=UTC).timestamp()  # a Monday, 06:07 UTC


def next_day(clock):
    clock.set((math.floor(clock.now() / DAY) + 1) * DAY + 5)


def table_snapshot(cli, table, cols):
    return sorted(cli.sql(f"select {cols} from strava.{table}"))


@pytest.fixture(scope="module")
def big_import(tmp_path_factory):
    """A 1,500-activity athlete (about 3,000 requests: four days) imported through repeated daily runs at the real
    limits."""
    clock = FakeClock(START)
    spec = AthleteSpec(seed=11, first_day=None, n_activities=1500, stream_scale=0.01)
    mp = pytest.MonkeyPatch()
    with FakeStrava(athlete=spec, clock=clock) as fake:
        cli = Cli(fake, clock, tmp_path_factory.mktemp("big") / "data", mp, fake.issue_refresh_token())
        first_day = min(a["start_date"] for a in fake.activities())[:10]
        outputs, days = [], 0
        rc, out, err = cli("--start-date", first_day)
        outputs.append(out)
        days += 1
        while "Daily read limit reached" in out and days < 20:
            next_day(clock)
            rc, out, err = cli()
            assert rc == 0, err
            outputs.append(out)
            days += 1
        yield {"cli": cli, "fake": fake, "days": days, "outputs": outputs, "clock": clock}
    mp.undo()


def minimum_requests(fake, runs):
    acts = fake.activities()
    n = len(acts)
    gear = len({a["gear_id"] for a in acts if a.get("gear_id")})
    streams = sum(1 for a in acts if not a["manual"])
    # first listing + one "anything new?" page per later run + athlete, stats, zones + gear + detail + streams
    # a full last page needs one more request to see the end
    return n // 200 + 1 + (runs - 1) + 3 + gear + n + streams


def test_finishes_in_the_minimum_number_of_days(big_import):
    fake, days = big_import["fake"], big_import["days"]
    total = sum(n for k, n in fake.counts().items() if not k.startswith("POST /oauth"))
    assert total == minimum_requests(fake, days)
    assert days == math.ceil(total / 1000) >= 3
    assert "Daily read limit reached" in big_import["outputs"][0]
    assert "run again after 00:00 UTC" in big_import["outputs"][0]


def test_no_429_ever_and_everything_loaded_once(big_import):
    cli, fake = big_import["cli"], big_import["fake"]
    assert fake.count_429 == 0
    assert cli.count("activities") == 1500
    assert cli.count("activity_details") == 1500
    assert cli.sql("select count(*) from (select id from strava.activities group by id having count(*) > 1)")[0][0] == 0
    assert (
        cli.sql(
            "select count(*) from (select activity_id, kind from strava.fetch_log group by all having count(*) > 1)"
        )[0][0]
        == 0
    )
    assert (
        cli.sql(
            "select count(*) from (select activity_id, point_index from strava.activity_streams "
            "group by all having count(*) > 1)"
        )[0][0]
        == 0
    )
    # no item was ever fetched twice
    per_id = {}
    for e in fake.log:
        if e.path.startswith("/api/v3/activities/"):
            per_id[e.path] = per_id.get(e.path, 0) + 1
    assert max(per_id.values()) == 1


def test_plan_counts_the_remaining_work(fake, cli):
    rc, out, err = cli("--plan", "--start-date", "2025-06-01")
    assert rc == 0, err
    n = len(fake.activities())
    assert f"{n:,} activities still need detail and streams" in out
    assert set(fake.counts()) == {"GET /athlete/activities", "POST /oauth/token"}


def test_budget_used_by_another_app_is_respected(fake, cli, clock):
    fake.set_usage(read_15min=20, read_daily=990, overall_15min=20, overall_daily=990)
    rc, out, err = cli("--start-date", "2025-06-01")
    assert rc == 0, err
    assert "Daily read limit reached" in out
    assert fake.count_429 == 0
    assert fake.usage.read_daily == 1000


def test_no_wait_stops_at_the_15_minute_limit(fake, cli):
    fake.set_usage(read_15min=95, read_daily=100, overall_15min=95, overall_daily=100)
    rc, out, err = cli("--start-date", "2025-06-01", "--no-wait")
    assert rc == 0, err
    assert "15-minute limit" in out and "next quarter hour" in out
    assert fake.count_429 == 0


def test_waits_for_the_next_quarter_hour(fake, cli, clock):
    fake.set_usage(read_15min=98, read_daily=100, overall_15min=98, overall_daily=100)
    t0 = clock.now()
    rc, out, err = cli("--start-date", "2025-10-01", "--no-detail")
    assert rc == 0, err
    assert "waiting" in out
    assert clock.now() - t0 >= (900 - t0 % 900)
    assert fake.count_429 == 0


def test_429_is_honoured_not_retried_in_a_loop(fake, cli):
    fake.set_usage(read_15min=100, read_daily=1000, overall_15min=100, overall_daily=1000)
    rc, out, err = cli("--no-detail")
    assert rc == 0, err
    assert fake.count_429 == 1
    assert "Daily read limit reached" in out


def test_max_requests_caps_a_run(fake, cli):
    rc, out, err = cli("--start-date", "2025-06-01", "--max-requests", "25")
    assert rc == 0, err
    assert sum(n for k, n in fake.counts().items() if not k.startswith("POST /oauth")) == 25
    assert "--max-requests 25" in out


@pytest.mark.parametrize("kind", ["5xx", "drop"])
def test_transient_faults_are_retried(fake, cli, kind):
    fake.faults.add(kind, count=2, path=r"/streams")
    rc, out, err = cli("--start-date", "2025-10-01", "--no-detail")
    assert rc == 0, err
    assert "failed" not in out
    assert cli.sql("select count(*) from strava.fetch_log where kind = 'streams'")[0][0] == sum(
        1 for a in fake.activities() if a["start_date"] >= "2025-10-01"
    )


def test_slow_response_times_out_and_is_retried(fake, cli, monkeypatch):
    monkeypatch.setenv("SOURCES__STRAVA__REQUEST_TIMEOUT", "0.5")
    fake.faults.add("slow", count=1, path=r"/streams", delay=2.0)
    rc, out, err = cli("--start-date", "2025-11-01", "--no-detail")
    assert rc == 0, err
    assert "failed" not in out


def test_truncated_json_fails_only_that_item(fake, cli):
    fake.faults.add("truncate", count=1, path=r"/streams")
    rc, out, err = cli("--start-date", "2025-10-01", "--no-detail")
    assert rc == 0, err
    assert "1 item(s) failed and stay queued" in out
    fake.reset_log()
    rc, out, err = cli("--start-date", "2025-10-01", "--no-detail")
    assert rc == 0
    assert fake.counts()["GET /activities/{id}/streams"] == 1


def test_reconcile_flags_deletions_and_picks_up_edits(fake, cli):
    assert cli("--start-date", "2025-06-01", "--no-streams", "--no-detail")[0] == 0
    acts = fake.activities()
    gone, edited = acts[3]["id"], acts[5]["id"]
    fake.delete_activity(gone)
    fake.update_activity(edited, name="Renamed run", private=True)
    fake.reset_log()
    rc, out, err = cli("--reconcile", "--no-streams", "--no-detail")
    assert rc == 0, err
    assert fake.counts()["GET /athlete/activities"] == math.ceil(len(acts) / 200)
    assert cli.sql(f"select deleted from strava.activities where id = {gone}")[0][0] is True
    assert cli.sql(f"select name, private from strava.activities where id = {edited}")[0] == ("Renamed run", True)
    assert "1 flagged deleted" in out
