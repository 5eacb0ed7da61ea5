"""dbt on a data dir's warehouse, for the CLI and Dagster alike: one folder of dbt results per data dir."""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from strava_pipeline import warehouses
from strava_pipeline.config import DATA_DIR_ENV, PROJECT_ROOT, UserError, warehouse_path

DBT_DIR = PROJECT_ROOT / "dbt_project"
# run_results.json and manifest.json of the last dbt command on this data dir, whoever ran it (`strava.py`,
# `strava.py dbt`, Dagster): the data-quality page reads them from here
RESULTS_SUBDIR = "dbt_target"
TARGET_PATH_ENV = "DBT_TARGET_PATH"
OUTPUT_LOG = "dbt_output.log"


def results_dir(data_dir: Path) -> Path:
    """<data dir>/dbt_target, or DBT_TARGET_PATH when it is set to an absolute path (dbt honours it too)."""
    override = os.environ.get(TARGET_PATH_ENV)
    if override and Path(override).is_absolute():
        return Path(override)
    return Path(data_dir).resolve() / RESULTS_SUBDIR


def dbt_executable() -> str:
    """The dbt of this environment, also when the process was not started through `uv run`."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_environment(data_dir: Path) -> dict:
    """What a dbt process needs to work on this data dir: profiles.yml reads STRAVA_DATA_DIR; the project and
    the results folder are set by environment so that every dbt command (build, test, docs, debug) accepts them."""
    target = results_dir(data_dir)
    return {
        **os.environ,
        DATA_DIR_ENV: str(Path(data_dir).resolve()),
        "DBT_PROJECT_DIR": str(DBT_DIR),
        "DBT_PROFILES_DIR": str(DBT_DIR),
        TARGET_PATH_ENV: str(target),
        "DBT_LOG_PATH": str(target),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **warehouses.dbt_env(),  # the target (DuckDB file or PostgreSQL) and its connection
    }


_PR_SET_PDEATHSIG = 1


def _dies_with(parent: int):
    """preexec_fn of the dbt child on Linux: killed when the process that started it dies. A `kill -9` of strava.py
    stops its dbt build too, instead of leaving an orphan writing the warehouse that the next run finds busy."""

    def preexec() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)

    return preexec if sys.platform.startswith("linux") else None


def run_dbt(data_dir: Path, args: list[str], out: TextIO) -> int:
    """`dbt ARGS` on this data dir's warehouse, its output copied to `out`; returns dbt's exit code."""
    results_dir(data_dir).mkdir(parents=True, exist_ok=True)
    with subprocess.Popen(
        [dbt_executable(), *args],
        cwd=PROJECT_ROOT,
        env=dbt_environment(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        preexec_fn=_dies_with(os.getpid()),
    ) as proc:
        for line in proc.stdout:
            out.write(line)
            out.flush()
    return proc.returncode


@dataclass
class BuildResult:
    returncode: int
    seconds: float
    log: Path
    counts: dict = field(default_factory=dict)  # status -> number of nodes (success, pass, warn, error, fail, skipped)
    failed: list = field(default_factory=list)  # names of the nodes that errored or failed

    def summary(self) -> str:
        order = ("success", "pass", "warn", "error", "fail", "skipped")
        parts = [f"{self.counts[k]} {k}" for k in order if self.counts.get(k)]
        return ", ".join(parts) or "nothing ran"


def build(data_dir: Path) -> BuildResult:
    """`dbt build` of the whole project, its output in <results>/dbt_output.log; UserError when there is no
    warehouse yet. The dbt plugin takes the warehouse's writer lock (or knows that the caller holds it)."""
    if warehouses.is_postgres():
        warehouses.check_postgres()
    elif not (warehouse := warehouse_path(data_dir)).exists():
        raise UserError(f"No warehouse at {warehouse} to build the models from: load one first.")
    target = results_dir(data_dir)
    target.mkdir(parents=True, exist_ok=True)
    log = target / OUTPUT_LOG
    results = target / "run_results.json"
    before = results.stat().st_mtime_ns if results.exists() else None
    started = time.monotonic()
    with open(log, "w") as handle:
        returncode = run_dbt(data_dir, ["build"], handle)
    result = BuildResult(returncode, time.monotonic() - started, log)
    try:
        if results.stat().st_mtime_ns == before:
            return result  # dbt stopped before running a node (a parse or connection error): see the log
        run_results = json.loads(results.read_text())
    except (OSError, ValueError):
        return result
    for node in run_results.get("results", []):
        status = node.get("status") or "unknown"
        result.counts[status] = result.counts.get(status, 0) + 1
        if status in ("error", "fail"):
            result.failed.append(node.get("unique_id", "").split(".")[-1] or node.get("unique_id"))
    return result
