"""dbt-duckdb plugin of the Strava project: finds the warehouse like the CLI, loads spatial offline from the wheel."""

import importlib.util
from pathlib import Path
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

# dbt_project/plugins/ -> the project root, the folder that holds strava.py and data/
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def spatial_extension_path() -> Path:
    """The .duckdb_extension file shipped inside the duckdb-extension-spatial wheel (no download)."""
    spec = importlib.util.find_spec("duckdb_extension_spatial")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("duckdb-extension-spatial is not installed: run `uv sync` in the project folder.")
    folder = Path(spec.submodule_search_locations[0])
    candidates = sorted(folder.rglob("spatial.duckdb_extension"))
    # the wheel is built for one DuckDB version; prefer the folder named after the running one
    wanted = [p for p in candidates if f"v{duckdb.__version__}" in p.parts]
    if not (wanted or candidates):
        raise RuntimeError(f"No spatial.duckdb_extension inside {folder}: reinstall duckdb-extension-spatial.")
    return (wanted or candidates)[0]


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.extension = spatial_extension_path()
        self._lock = None

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        # dbt runs from dbt_project/ (it changes directory there), but a relative STRAVA_DATA_DIR means the same
        # folder as for `uv run strava.py` started from the project root
        if creds.path == ":memory:":
            return
        path = Path(creds.path).expanduser()
        if not path.is_absolute():
            path = PROJECT_ROOT / path
        creds.path = str(path)
        if not path.exists():
            raise RuntimeError(
                f"No warehouse at {path}: load one with `uv run strava.py`, or point STRAVA_DATA_DIR at the data "
                "folder that holds strava.duckdb (the demo, `uv run strava.py --demo`, writes data/demo)."
            )
        if self._lock is None:
            # one writer at a time: an import running now makes dbt wait (up to 10 minutes), not corrupt the file;
            # held until dbt exits (a parent that already holds it says so in STRAVA_WAREHOUSE_LOCK_HELD)
            from strava_pipeline.lock import acquire

            self._lock = acquire(path.parent, wait_s=600, holder="dbt") or "held by the parent process"

    def configure_connection(self, conn: Any) -> None:
        conn.execute(f"LOAD '{self.extension}'")
