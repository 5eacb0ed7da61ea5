"""The training-analytics marts (power and pace curves, FTP, zones, calendar, year in review, gear) on eight weeks of
the demo athlete: the curves agree with a plain numpy computation of the same definitions (benchmarks/bench_curves.py),
and every mart adds up to fct_activities. dbt runs in its own process, as a user runs it.
"""

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from strava_pipeline.cli import main as strava_main
from tests.test_dbt_build import dbt

PROJECT_ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_curves", PROJECT_ROOT / "benchmarks" / "bench_curves.py")
bench_curves = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_curves)

MARTS = "+power_curve +pace_curve +ftp_history +time_in_zones_by_period +year_in_review +gear_maintenance_status"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    base = tmp_path_factory.mktemp("analytics")
    start = (datetime.now(UTC) - timedelta(days=56)).strftime("%Y-%m-%d")
    assert strava_main(["--demo", "--data-dir", str(base), "--start-date", start, "--import-only"]) == 0
    data_dir = base / "demo"
    spoil_streams(data_dir / "strava.duckdb")
    run = dbt(
        ["build", "--select", MARTS, "--indirect-selection", "cautious"],
        data_dir,
        tmp_path_factory.mktemp("analytics_work"),
    )
    assert run.success, run.failures()
    with duckdb.connect(str(data_dir / "strava.duckdb"), read_only=True) as con:
        yield con


def spoil_streams(path: Path) -> None:
    """What real recordings have and the demo's do not, in one run and one ride: a point without a distance, a
    distance that steps back, a signal lost for 11 s while moving (the distance jumps across the gap) and a ride
    that loses its power meter for 20 s. The resampling sums such activities second by second instead of taking
    the distance since the start (macros/resample.sql); numpy must still agree."""
    with duckdb.connect(str(path)) as con:
        run, ride = (
            con.execute(
                f"""select s.activity_id from strava.strava.activity_streams as s
                    join strava.strava.activities as a on a.id = s.activity_id
                    where a.sport_type {kind} group by s.activity_id having count(*) > 600
                    order by s.activity_id limit 1"""
            ).fetchone()[0]
            for kind in ("= 'Run'", "in ('Ride', 'VirtualRide') and a.device_watts")
        )
        for point, distance in ((100, "null"), (200, "distance - 30")):
            con.execute(
                f"update strava.strava.activity_streams set distance = {distance} "
                f"where activity_id = {run} and point_index = {point}"
            )
        for activity, first, last in ((run, 300, 310), (ride, 400, 419)):
            con.execute(
                f"delete from strava.strava.activity_streams where activity_id = {activity} "
                f"and point_index between {first} and {last}"
            )


def one(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_curves_agree_with_numpy(warehouse, capsys):
    result = bench_curves.numpy_curves(warehouse, bench_curves.dbt_vars())
    power_curves, pace_curves, distance_curves, _ = result
    assert power_curves and pace_curves and distance_curves, "the demo has rides with power and runs"
    assert bench_curves.compare(warehouse, *result, bench_curves.dbt_vars()), capsys.readouterr().out


def test_power_curve_falls_over_multiples_and_bests_hold_the_activity(warehouse):
    # a window of k * d seconds splits into k windows of d seconds, one of which averages at least as much; for
    # durations that do not divide each other the curve may rise ([10, 0, 10]: 2 s = 5 W, 3 s = 6.7 W)
    rising = one(
        warehouse,
        """select count(*) from marts.activity_power_curve as short
           join marts.activity_power_curve as long
             on long.activity_id = short.activity_id and long.duration_s > short.duration_s
            and long.duration_s % short.duration_s = 0
           where long.power_w > short.power_w + 1e-6""",
    )
    assert rising == 0
    # every best is the holder activity's own value, and no period beats all time
    mismatched = one(
        warehouse,
        """select count(*) from marts.power_curve as best
           join marts.activity_power_curve as a using (activity_id, duration_s)
           where abs(a.power_w - best.power_w) > 1e-9""",
    )
    assert mismatched == 0
    above_all_time = one(
        warehouse,
        """select count(*) from marts.power_curve as p
           join marts.power_curve as all_time
             on all_time.athlete_id = p.athlete_id and all_time.sport_type = p.sport_type
            and all_time.duration_s = p.duration_s and all_time.period_kind = 'all_time'
           where p.power_w > all_time.power_w + 1e-9""",
    )
    assert above_all_time == 0
    assert one(warehouse, "select count(*) from marts.ftp_history where estimated_ftp_w > 0") > 0


def test_pace_bests_take_longer_over_longer_distances(warehouse):
    faster_longer = one(
        warehouse,
        """select count(*) from (
               select duration_s < lag(duration_s) over (partition by activity_id order by distance_m) as faster
               from marts.activity_pace_curve where curve_kind = 'distance') where faster""",
    )
    assert faster_longer == 0
    # a best time over a distance is never faster than the activity's moving average allows at its best 1 s pace
    assert one(warehouse, "select min(pace_s_per_km) from marts.pace_curve where sport_type = 'Run'") > 100


def test_time_in_zones_fits_in_the_activity(warehouse):
    too_long = one(
        warehouse,
        """select count(*) from (
               select z.activity_id, z.zone_type, sum(z.time_s) as zone_s, any_value(a.elapsed_time_s) as elapsed_s
               from marts.time_in_zones as z join marts.fct_activities as a using (activity_id)
               group by all) where zone_s > elapsed_s + 1""",
    )
    assert too_long == 0
    zone_seconds = one(warehouse, "select sum(time_s) from marts.time_in_zones")
    period_seconds = one(warehouse, "select sum(time_s) from marts.time_in_zones_by_period where period_kind = 'week'")
    assert zone_seconds == period_seconds > 0


def test_calendar_year_in_review_and_gear_add_up_to_the_activities(warehouse):
    activities, distance = warehouse.execute("select count(*), sum(distance_km) from marts.fct_activities").fetchone()
    assert one(warehouse, "select sum(activity_count) from marts.daily_calendar") == activities
    assert one(warehouse, "select sum(activity_count) from marts.year_in_review") == activities
    assert one(warehouse, "select sum(distance_km) from marts.year_in_review") == pytest.approx(distance)
    # one row per day, no day missing between the first and the last
    days, first, last = warehouse.execute(
        "select count(*), min(calendar_date), max(calendar_date) from marts.daily_calendar"
    ).fetchone()
    assert days == (last - first).days + 1
    geared = one(warehouse, "select sum(distance_km) from marts.fct_activities where gear_id is not null")
    assert one(warehouse, "select sum(distance_km) from marts.gear_summary") == pytest.approx(geared)
    streak = one(warehouse, "select max(longest_streak_days) from marts.year_in_review")
    assert 1 <= streak <= days
