"""Orchestration overhead: a demo import + dbt build through Dagster next to the same work through the CLI and dbt.

Run: uv run python benchmarks/bench_orchestration.py [--since YYYY-MM] [--repeat N]

In one run, each side on a fresh data dir with its own bundled fake Strava API (demo mode), same window:
  cli      = `python strava.py --demo --start-date <since>` then `dbt build` (two processes, as a user types them)
  dagster  = the same work as the UI's "Materialize all" over those months runs it: one run of the raw tables over
             the month range (single-run backfill policy: one run_import over the window) with the freshness and
             budget checks, then one run of the dbt assets (dbt build, its tests as asset checks); either
             in-process (`execute_in_process` on a sqlite instance like `dagster dev`'s) or as two
             `dagster asset materialize` processes (what runs launched from the UI cost: each loads the code first),
             both with the Dagster settings `strava.py ui` gives the UI (orchestration.launcher.DAGSTER_SETTINGS)
and prints seconds for each and the ratios dagster / cli (target <= 1.5), best of --repeat rounds (default 2; the
machine is shared and noisy), each round on fresh data dirs. Both warehouses must end with the same
rows. The default is the full demo: the demo athlete's whole history (983 activities, 3.7 M stream points, every
monthly partition since its first activity; about 2,000 requests, inside one 15-minute window of the demo's limits,
so neither side sleeps); --since YYYY-MM takes a shorter window (the per-month partition events then weigh more).
"""

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestration.launcher import DAGSTER_SETTINGS  # noqa: E402
from strava_pipeline.config import PROJECT_ROOT  # noqa: E402
from strava_pipeline.demo import DEMO_ATHLETE  # noqa: E402

TABLES = ("activities", "activity_details", "activity_streams", "fetch_log")


def clean_env(**extra: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRAVA_", "DAGSTER_", "SOURCES__STRAVA")) and k != "DBT_TARGET_PATH"
    }
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return {**env, **extra}


def counts(data_dir: Path) -> dict:
    with duckdb.connect(str(data_dir / "strava.duckdb"), read_only=True) as con:
        catalog = con.sql("select current_database()").fetchone()[0]
        rows = {t: con.sql(f'select count(*) from "{catalog}".strava.{t}').fetchone()[0] for t in TABLES}
        rows["marts.fct_activities"] = con.sql(f'select count(*) from "{catalog}".marts.fct_activities').fetchone()[0]
        return rows


def timed(cmd: list, env: dict, log: Path) -> float:
    started = time.perf_counter()
    with open(log, "a") as out:
        subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - started


def run_cli(work: Path, since: date) -> dict:
    base = work / "cli"
    env = clean_env()
    log = work / "cli.log"
    import_s = timed(
        [
            sys.executable,
            "strava.py",
            "--data-dir",
            str(base),
            "--demo",
            "--start-date",
            since.isoformat(),
            "--import-only",
        ],
        env,
        log,
    )
    dbt = str(Path(sys.executable).parent / "dbt")
    dbt_s = timed(
        [
            dbt,
            "build",
            "--project-dir",
            "dbt_project",
            "--profiles-dir",
            "dbt_project",
            "--target-path",
            str(base / "demo" / "dbt_target"),
        ],
        clean_env(STRAVA_DATA_DIR=str(base / "demo")),
        log,
    )
    return {"import": import_s, "dbt": dbt_s, "total": import_s + dbt_s, "rows": counts(base / "demo")}


def run_dagster_in_process(work: Path, since: date, instance_home: Path) -> dict:
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from orchestration.defs.ingest import IMPORT_TAG, MONTHLY, RAW_KEYS, WINDOW
    from orchestration.defs.transform import strava_dbt

    base = work / "dagster"
    os.environ.update({"STRAVA_DEMO": "1", "STRAVA_DATA_DIR": str(base), **DAGSTER_SETTINGS})
    t = time.perf_counter()
    from orchestration.definitions import defs

    load_s = time.perf_counter() - t
    home = instance_home
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    steps = {}
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:  # sqlite, like `dagster dev`
        job = defs.resolve_job_def("strava_refresh")
        quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
        started = time.perf_counter()
        raw = job.execute_in_process(
            instance=instance,
            asset_selection=RAW_KEYS,
            run_config=quiet,
            tags={
                IMPORT_TAG: WINDOW,
                ASSET_PARTITION_RANGE_START_TAG: since.strftime("%Y-%m-01"),
                ASSET_PARTITION_RANGE_END_TAG: MONTHLY.get_last_partition_key(),
            },
        )
        import_s = time.perf_counter() - started
        # dagster-dbt echoes dbt's log to stdout (a run's captured output in the UI): into the log, like the others
        with open(work / "dagster.log", "a") as log, contextlib.redirect_stdout(log):
            dbt = defs.resolve_implicit_global_asset_job_def().execute_in_process(
                instance=instance, asset_selection=list(strava_dbt.keys), run_config=quiet
            )
        total = time.perf_counter() - started
        assert raw.success and dbt.success
        for run_id in (raw.run_id, dbt.run_id):
            for record in instance.get_records_for_run(run_id, limit=100_000).records:
                event = record.event_log_entry.dagster_event
                if event is not None and event.event_type_value in ("STEP_START", "STEP_SUCCESS"):
                    steps.setdefault(event.step_key, []).append(record.event_log_entry.timestamp)
    step_s = {k: v[-1] - v[0] for k, v in steps.items() if len(v) == 2}
    return {
        "load": load_s,
        "total": total,
        "import_run": import_s,
        "import": step_s.get("strava_import", 0.0),
        "dbt_run": total - import_s,
        "dbt": step_s.get("strava_dbt", 0.0),
        "rows": counts(base / "demo"),
    }


def run_dagster_process(work: Path, since: date) -> dict:
    """`dagster asset materialize`: a run in its own process that loads the code location, like a UI launch."""
    base = work / "dagster_cli"
    home = work / "dagster_cli_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    end = datetime.now(UTC).strftime("%Y-%m-01")
    env = clean_env(STRAVA_DEMO="1", STRAVA_DATA_DIR=str(base), DAGSTER_HOME=str(home), **DAGSTER_SETTINGS)
    materialize = [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "orchestration.definitions"]
    import_s = timed(
        [*materialize, "--select", 'key:"strava/*"', "--partition-range", f"{since.strftime('%Y-%m-01')}...{end}"],
        env,
        work / "dagster_cli.log",
    )
    dbt_s = timed([*materialize, "--select", "kind:dbt"], env, work / "dagster_cli.log")
    return {"total": import_s + dbt_s, "import": import_s, "dbt": dbt_s, "rows": counts(base / "demo")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", metavar="YYYY-MM", help="first month of the window (default: the demo's first)")
    parser.add_argument("--repeat", type=int, default=2, metavar="N", help="rounds; the best of each is kept")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs (printed)")
    args = parser.parse_args()
    today = datetime.now(UTC).date()
    if args.since:
        since = datetime.strptime(args.since, "%Y-%m").date()
    else:
        since = DEMO_ATHLETE.first_day.replace(day=1)
    work = Path(tempfile.mkdtemp(prefix="bench-orchestration-"))
    best: dict = {}
    try:
        print(f"Window {since} .. {today} of the demo athlete; data dirs under {work}", flush=True)
        for round_ in range(1, args.repeat + 1):
            here = work / f"round{round_}"
            here.mkdir()
            cli = run_cli(here, since)
            print(
                f"[{round_}] cli     : import {cli['import']:6.1f} s + dbt build {cli['dbt']:5.1f} s = "
                f"{cli['total']:6.1f} s  {cli['rows']}",
                flush=True,
            )
            dag = run_dagster_in_process(here, since, here / "dagster_home")
            print(
                f"[{round_}] dagster : import run {dag['import_run']:6.1f} s (step {dag['import']:.1f} s) + dbt run "
                f"{dag['dbt_run']:5.1f} s (step {dag['dbt']:.1f} s) = {dag['total']:6.1f} s in-process",
                flush=True,
            )
            proc = run_dagster_process(here, since)
            print(
                f"[{round_}] dagster : import run {proc['import']:6.1f} s + dbt run {proc['dbt']:5.1f} s = "
                f"{proc['total']:6.1f} s as runs in their own processes (`dagster asset materialize`, code load "
                f"included)",
                flush=True,
            )
            assert cli["rows"] == dag["rows"] == proc["rows"], "the runs did not load the same rows"
            for name, result in (("cli", cli), ("in_process", dag), ("own_process", proc)):
                best[name] = min(best.get(name, result["total"]), result["total"])
            rows = cli["rows"]
        print(f"rows in each warehouse: {rows}")
        print(
            f"best of {args.repeat}: cli {best['cli']:.1f} s, dagster in-process {best['in_process']:.1f} s, "
            f"dagster runs in their own processes {best['own_process']:.1f} s"
        )
        print(
            f"ratio dagster/cli: {best['in_process'] / best['cli']:.2f} in-process, "
            f"{best['own_process'] / best['cli']:.2f} as runs in their own processes (target <= 1.5)"
        )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
