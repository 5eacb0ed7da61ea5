"""What the file-import tests share: the reference data (../shared/strava-reference, or STRAVA_REFERENCE_DIR), the
rule for when it is missing (fail in CI, skip on a laptop), and the in-process CLI runner with a fixed clock."""

import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from strava_pipeline.cli import main
from strava_pipeline.clock import FakeClock
from strava_pipeline.warehouse import open_warehouse

REFERENCE = Path(
    os.environ.get("STRAVA_REFERENCE_DIR") or Path(__file__).resolve().parents[3] / "shared" / "strava-reference"
)
FILES = REFERENCE / "files"
THIRD_PARTY = FILES / "third-party"
# a fixed "now" for tests: Friday 2026-11-20 10:00:00 UTC
NOW = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC).timestamp()


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require(path: Path) -> Path:
    """The reference file or folder a test module needs: its absence fails in CI and skips the module elsewhere."""
    if not path.exists():
        if in_ci():
            raise RuntimeError(f"reference files missing ({path}): CI needs ../shared/strava-reference")
        pytest.skip(f"reference files not found in {FILES} (set STRAVA_REFERENCE_DIR)", allow_module_level=True)
    return path


def run_cli(data_dir: Path, *args: str) -> tuple[int, str, str]:
    """`strava.py --data-dir DATA_DIR ARGS...` in-process at NOW: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    rc = main(["--data-dir", str(data_dir), *args], clock=FakeClock(NOW), out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


def query(data_dir: Path, sql: str) -> list:
    with open_warehouse(data_dir / "strava.duckdb") as con:
        return con.sql(sql).fetchall()
