"""dlt plugin: in this project dlt keeps its pipelines under the data dir, for our code and `dlt pipeline ...` alike."""

import os
from pathlib import Path
from typing import Any

from dlt.common.configuration import plugins
from dlt.common.runtime.run_context import RunContext

from strava_pipeline.config import PROJECT_ROOT, resolve_data_dir


class StravaRunContext(RunContext):
    """dlt's default run context, with the data dir (pipelines/ lives in it) moved into the project's data dir."""

    @property
    def data_dir(self) -> str:
        return os.environ.get("DLT_DATA_DIR") or str(resolve_data_dir(check=False))


@plugins.hookimpl(specname="plug_run_context")
def plug_strava_run_context(run_dir: str | None, runtime_kwargs: dict[str, Any] | None) -> RunContext | None:
    # dlt asks with run_dir None for "the current folder": in this project's environment that is the project, from
    # wherever `uv run strava.py` is started; without this, .dlt/config.toml (telemetry off, the API base URL,
    # loader settings) only applied when started from the project folder
    root = Path(os.environ.get("DLT_PROJECT_DIR") or run_dir or PROJECT_ROOT).resolve()
    if root == PROJECT_ROOT:
        return StravaRunContext(str(root))
    return None
