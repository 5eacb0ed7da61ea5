"""Power and pace curves: the dbt models in DuckDB next to a plain numpy computation of the same curves.

Run: uv run python benchmarks/bench_curves.py [--demo-dir data/demo] [--repeat 3]

The warehouse (<demo dir>/strava.duckdb: --demo-dir, else STRAVA_DATA_DIR, else data/demo; make a full demo with
`uv run strava.py --demo --start-date 2022-01-01`, about 3.7 M stream points) is copied to a scratch folder, so the
benchmark never writes to it. Then, --repeat times each (best time kept: the machine is shared):
  dbt    `dbt run` of the curve models (int_activity_streams__1hz, activity_power_curve, power_curve, ftp_history,
         activity_pace_curve, pace_curve) in the copy: from the first model's start to the last one's end as dbt
         reports them (dbt's start-up and the sum of the models' times are printed, not counted);
  numpy  the same curves from the stream points: read them from DuckDB into arrays, resample to 1 Hz with the
         same rules (duplicate times: the later point; gaps over resample_max_gap_s count as zero), running sums,
         the ladder of curve_durations_s, searchsorted for the standard distances, the bests per athlete x sport
         for all time and each calendar year.
Printed: both times, the ratio (target: dbt within 3x of numpy) and the largest difference between the two
(target: 0.5 W for power, 0.5 s for paces and times). Exit code 1 when they disagree.
On a shared machine the wall times follow the load; the CPU seconds of both sides are printed too (all threads of
the process): the models' compiled SQL run one after the other in this process, next to numpy's CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = PROJECT_ROOT / "dbt_project"
CURVE_MODELS = (
    "int_activity_streams__1hz",
    "activity_power_curve",
    "power_curve",
    "ftp_history",
    "activity_pace_curve",
    "pace_curve",
)
RUN_SPORTS = ("Run", "TrailRun", "VirtualRun")
POWER_TOLERANCE_W = 0.5
TIME_TOLERANCE_S = 0.5


def dbt_vars() -> dict:
    return yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text())["vars"]


def warehouse_file(demo_dir: str | None) -> Path:
    chosen = demo_dir or os.environ.get("STRAVA_DATA_DIR") or "data/demo"
    base = Path(chosen).expanduser()
    path = (base if base.is_absolute() else PROJECT_ROOT / base) / "strava.duckdb"
    if not path.exists():
        raise SystemExit(
            f"No warehouse at {path}: make the demo with `uv run strava.py --demo --start-date 2022-01-01` "
            "or pass --demo-dir."
        )
    return path


def dbt(scratch: Path, args: list[str]) -> list[dict]:
    """Run dbt against the scratch copy in its own process (it keeps its DuckDB connection open); its results."""
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(scratch / "target"),
        "--log-path",
        str(scratch / "logs"),
    ]
    run = subprocess.run(
        command, env={**os.environ, "STRAVA_DATA_DIR": str(scratch)}, capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        raise SystemExit(f"dbt {args[0]} failed (exit {run.returncode}):\n{run.stdout[-2000:]}")
    return json.loads((scratch / "target" / "run_results.json").read_text())["results"]


def time_dbt(scratch: Path) -> tuple[float, float, float, dict[str, float]]:
    """(the span from the first curve model's start to the last one's end, the sum of their execution times, wall
    time of the whole dbt run, time per model). dbt runs independent models side by side: the span is what a user
    waits for; the sum counts every model as if alone."""
    started = time.perf_counter()
    results = dbt(scratch, ["run", "--select", " ".join(CURVE_MODELS)])
    wall = time.perf_counter() - started
    per_model = {r["unique_id"].rsplit(".", 1)[-1]: r["execution_time"] for r in results}
    steps = [t for r in results for t in r["timing"] if t["name"] == "execute"]
    span = (
        datetime.fromisoformat(max(t["completed_at"] for t in steps))
        - datetime.fromisoformat(min(t["started_at"] for t in steps))
    ).total_seconds()
    return span, sum(per_model.values()), wall, per_model


def cpu_of_models(scratch: Path) -> dict[str, float]:
    """CPU seconds (every DuckDB thread) of each curve model's SQL as dbt compiled it, run in this process against
    the tables of the last `dbt run`; views are left out (dbt only creates them, their SQL runs in the models that
    read them). The one session setting a model sets in a hook (activity_pace_curve's asof_loop_join_threshold) is
    set here for all: it only matters where there is an ASOF join."""
    nodes = json.loads((scratch / "target" / "manifest.json").read_text())["nodes"]
    views = {n["name"] for n in nodes.values() if n["config"].get("materialized") == "view"}
    compiled = scratch / "target" / "compiled" / "strava" / "models"
    seconds = {}
    with duckdb.connect(str(scratch / "strava.duckdb"), read_only=True) as con:
        con.execute("set asof_loop_join_threshold = 0")
        for name in (model for model in CURVE_MODELS if model not in views):
            sql = next(compiled.rglob(f"{name}.sql")).read_text()
            started = time.process_time()
            con.execute(f"select count(*) from ({sql}) as model").fetchone()
            seconds[name] = time.process_time() - started
    return seconds


# ------------------------------------------------------------------------------------------------ numpy
def read_streams(con: duckdb.DuckDBPyConnection) -> tuple[dict, dict[str, np.ndarray]]:
    activities = {
        row[0]: row[1:]
        for row in con.execute(
            "select activity_id, athlete_id, sport_type, start_date_local from marts.fct_activities"
        ).fetchall()
    }
    arrays = con.execute(
        "select activity_id, elapsed_s, distance_m, power_w "
        "from staging.stg_strava__activity_streams where elapsed_s is not null "
        "order by activity_id, elapsed_s, point_index"
    ).fetchnumpy()
    return activities, arrays


def as_float(values) -> np.ndarray:
    # fetchnumpy gives masked arrays for columns with NULLs
    if np.ma.isMaskedArray(values):
        return values.astype(float).filled(np.nan)
    return np.asarray(values, dtype=float)


def resample(t: np.ndarray, distance: np.ndarray, power: np.ndarray, max_gap: int):
    """1 Hz power and distance gained per second of one activity (t sorted, unique)."""
    gap = np.diff(t, prepend=t[0] - 1)
    big = gap > max_gap
    ends = np.cumsum(gap) - 1  # index of each sample's own second
    power_1hz = np.repeat(np.nan_to_num(power, nan=0.0), gap)
    in_gap = np.repeat(big, gap)
    in_gap[ends] = False
    power_1hz[in_gap] = 0.0
    # gained over the farthest distance before (NaN-free running maximum): a step back is not gained twice
    farthest_before = np.concatenate(([np.nan], np.fmax.accumulate(distance)[:-1]))
    gained = np.maximum(np.nan_to_num(distance - farthest_before, nan=0.0), 0.0)
    distance_1hz = np.repeat(np.where(big, 0.0, gained / gap), gap)
    return power_1hz, distance_1hz


def best_window_sums(values: np.ndarray, durations: list[int]) -> dict[int, float]:
    running = np.concatenate(([0.0], np.cumsum(values)))
    return {d: float((running[d:] - running[:-d]).max()) for d in durations if d <= len(values)}


def best_distance_times(gain: np.ndarray, distances: dict[str, float]) -> dict[str, float]:
    seconds = np.flatnonzero(gain > 0)
    if len(seconds) == 0:
        return {}
    covered = np.cumsum(gain)[seconds]
    gain_m = gain[seconds]
    best = {}
    for name, metres in distances.items():
        ends = np.flatnonzero(covered >= metres)
        if len(ends) == 0:
            continue
        target = covered[ends] - metres
        starts = np.searchsorted(covered, target, side="right")
        times = seconds[ends] - seconds[starts] + (covered[starts] - target) / gain_m[starts]
        best[name] = float(times.min())
    return best


def numpy_curves(con: duckdb.DuckDBPyConnection, v: dict):
    activities, a = read_streams(con)
    durations = [int(d) for d in v["curve_durations_s"]]
    max_gap = int(v["resample_max_gap_s"])
    ids, t = np.asarray(a["activity_id"]), np.asarray(a["elapsed_s"]).astype(np.int64)
    distance, power = as_float(a["distance_m"]), as_float(a["power_w"])
    # the later point of a duplicate time wins: keep the last row of each (activity, time)
    last = np.ones(len(ids), dtype=bool)
    last[:-1] = (ids[1:] != ids[:-1]) | (t[1:] != t[:-1])
    ids, t, distance, power = ids[last], t[last], distance[last], power[last]
    bounds = np.flatnonzero(np.diff(ids)) + 1
    power_curves, pace_curves, distance_curves = {}, {}, {}
    for lo, hi in zip(np.concatenate(([0], bounds)), np.concatenate((bounds, [len(ids)]))):
        activity_id = int(ids[lo])
        if activity_id not in activities:
            continue
        sport = activities[activity_id][1]
        has_power = not np.all(np.isnan(power[lo:hi]))
        is_run, is_swim = sport in RUN_SPORTS, sport == "Swim"
        if not (has_power or is_run or is_swim):
            continue
        power_1hz, gain_1hz = resample(t[lo:hi], distance[lo:hi], power[lo:hi], max_gap)
        if has_power:
            power_curves[activity_id] = {d: s / d for d, s in best_window_sums(power_1hz, durations).items()}
        if is_run or is_swim:
            pace_curves[activity_id] = {
                d: d / (s / 1000.0) for d, s in best_window_sums(gain_1hz, durations).items() if s > 0
            }
            distance_curves[activity_id] = best_distance_times(
                gain_1hz, v["swim_distances_m"] if is_swim else v["run_distances_m"]
            )
    # bests per athlete x sport: all time and each calendar year
    power_bests: dict[tuple, float] = defaultdict(float)
    for activity_id, curve in power_curves.items():
        athlete, sport, day = activities[activity_id]
        for period in ("all time", str(day.year)):
            for d, watts in curve.items():
                key = (athlete, sport, period, d)
                power_bests[key] = max(power_bests[key], watts)
    return power_curves, pace_curves, distance_curves, dict(power_bests)


# ------------------------------------------------------------------------------------------------ compare
def compare(con: duckdb.DuckDBPyConnection, power_curves, pace_curves, distance_curves, power_bests, v) -> bool:
    checks = []
    sql_power = {
        (a, d): w
        for a, d, w in con.execute("select activity_id, duration_s, power_w from marts.activity_power_curve").fetchall()
    }
    np_power = {(a, d): w for a, c in power_curves.items() for d, w in c.items()}
    checks.append(("activity power (W)", sql_power, np_power, POWER_TOLERANCE_W))
    sql_pace = {
        (a, int(d)): p
        for a, d, p in con.execute(
            "select activity_id, duration_s, pace_s_per_km from marts.activity_pace_curve where curve_kind = 'duration'"
        ).fetchall()
    }
    np_pace = {(a, d): p for a, c in pace_curves.items() for d, p in c.items()}
    checks.append(("activity pace over durations (s/km)", sql_pace, np_pace, TIME_TOLERANCE_S))
    sql_times = {
        (a, e): s
        for a, e, s in con.execute(
            "select activity_id, effort, duration_s from marts.activity_pace_curve where curve_kind = 'distance'"
        ).fetchall()
    }
    np_times = {(a, e): s for a, c in distance_curves.items() for e, s in c.items()}
    checks.append(("activity best times over distances (s)", sql_times, np_times, TIME_TOLERANCE_S))
    sql_bests = {
        (athlete, sport, period, d): w
        for athlete, sport, period, d, w in con.execute(
            "select athlete_id, sport_type, period, duration_s, power_w from marts.power_curve "
            "where period_kind in ('all_time', 'season')"
        ).fetchall()
    }
    checks.append(("power bests, all time and seasons (W)", sql_bests, power_bests, POWER_TOLERANCE_W))
    ok = True
    for name, sql, ref, tolerance in checks:
        missing, extra = ref.keys() - sql.keys(), sql.keys() - ref.keys()
        worst = max((abs(sql[k] - ref[k]) for k in sql.keys() & ref.keys()), default=0.0)
        agree = not missing and not extra and worst <= tolerance
        ok &= agree
        print(
            f"  {name:<42} {len(ref):>7,} values  max |dbt - numpy| = {worst:.2e}"
            + (f"  only numpy: {len(missing)}" if missing else "")
            + (f"  only dbt: {len(extra)}" if extra else "")
            + ("  OK" if agree else f"  DISAGREE (tolerance {tolerance})")
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-dir", help="data folder holding strava.duckdb (default: STRAVA_DATA_DIR or data/demo)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the best time is kept")
    args = parser.parse_args()
    source = warehouse_file(args.demo_dir)
    v = dbt_vars()
    with tempfile.TemporaryDirectory(prefix="bench_curves_") as tmp:
        scratch = Path(tmp)
        shutil.copy2(source, scratch / "strava.duckdb")
        print(f"warehouse: {source} (copied to {scratch})")
        # the seeds and the models upstream of the curves (staging views, fct_activities), untimed; a warehouse
        # loaded with --import-only has no seeds yet
        dbt(scratch, ["seed"])
        dbt(scratch, ["run", "--select", "+" + " +".join(CURVE_MODELS), "--exclude", " ".join(CURVE_MODELS)])
        with duckdb.connect(str(scratch / "strava.duckdb"), read_only=True) as con:
            points = con.execute("select count(*) from staging.stg_strava__activity_streams").fetchone()[0]
        print(f"stream points: {points:,}; durations: {len(v['curve_durations_s'])}; repeat: {args.repeat}")

        dbt_best, dbt_sum, dbt_wall, per_model = float("inf"), 0.0, 0.0, {}
        for _ in range(args.repeat):
            span, total, wall, models = time_dbt(scratch)
            if span < dbt_best:
                dbt_best, dbt_sum, dbt_wall, per_model = span, total, wall, models
        np_best, np_cpu, result = float("inf"), float("inf"), None
        for _ in range(args.repeat):
            with duckdb.connect(str(scratch / "strava.duckdb"), read_only=True) as con:
                started, cpu_started = time.perf_counter(), time.process_time()
                result = numpy_curves(con, v)
                np_best = min(np_best, time.perf_counter() - started)
                np_cpu = min(np_cpu, time.process_time() - cpu_started)
        sql_cpu: dict[str, float] = {}
        for _ in range(args.repeat):
            run_cpu = cpu_of_models(scratch)
            if not sql_cpu or sum(run_cpu.values()) < sum(sql_cpu.values()):
                sql_cpu = run_cpu

        print(
            f"dbt models: {dbt_best:6.2f} s from the first model's start to the last one's end (sum of the models "
            f"{dbt_sum:.2f} s: "
            + ", ".join(f"{name} {seconds:.2f}" for name, seconds in per_model.items())
            + f"; the whole `dbt run` {dbt_wall:.1f} s with start-up)"
        )
        print(f"numpy:      {np_best:6.2f} s  (reading the points from DuckDB included)")
        ratio = dbt_best / np_best
        print(f"ratio dbt / numpy: {ratio:.2f}x (target <= 3x){'' if ratio <= 3 else '  ABOVE TARGET'}")
        print(
            f"CPU seconds, all threads: the models' SQL {sum(sql_cpu.values()):.2f} ("
            + ", ".join(f"{name} {seconds:.2f}" for name, seconds in sql_cpu.items())
            + f"), numpy {np_cpu:.2f}: {sum(sql_cpu.values()) / np_cpu:.2f}x"
        )
        with duckdb.connect(str(scratch / "strava.duckdb"), read_only=True) as con:
            ok = compare(con, *result, v)
    print("agreement: " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
