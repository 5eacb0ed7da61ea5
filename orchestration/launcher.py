"""Start the Dagster UI of this project: DAGSTER_HOME inside the data dir, telemetry off, one warehouse writer."""

import errno
import os
import re
import shutil
import signal
import socket
import sys
from pathlib import Path

from orchestration.resources import DEMO_ENV
from strava_pipeline.config import PROJECT_ROOT, UserError, dagster_home, resolve_data_dir

HOST = "127.0.0.1"
DEFAULT_PORT = 3000
DAGSTER_YAML = Path(__file__).resolve().parent / "dagster.yaml"  # telemetry and welcome dialog off, pool of one
# added to a dagster.yaml made before the setting existed: the "Join the Dagster community" dialog covers the
# first page otherwise
NUX_OFF = "\n# no welcome dialog over the first page of the UI\nnux:\n  enabled: false\n"
# Dagster settings of the UI's processes (the webserver and the daemon create the runs). A run over a range of months
# announces each raw table once, with the range, instead of once per month: 11 tables x 59 months of the demo are
# 649 "planned" events written one by one to SQLite, ~4 s per run. The cost: a failed run leaves its months missing
# (the next run or the resume sensor fetches them) instead of marking them failed.
DAGSTER_SETTINGS = {"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}


def prepare_home(data_dir: Path) -> Path:
    """<data dir>/dagster with a dagster.yaml (telemetry and the welcome dialog off, warehouse pool of one); kept
    if it exists, with the welcome dialog turned off when it does not say otherwise."""
    home = dagster_home(data_dir)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(DAGSTER_YAML, config)
    elif not re.search(r"^nux:", config.read_text(), re.M):
        with open(config, "a") as handle:
            handle.write(NUX_OFF)
    from strava_pipeline.warehouses import dagster_instance_setup

    dagster_instance_setup(home)  # STRAVA_WAREHOUSE=postgres: dagster-postgres storage, its env for dev_environment
    return home


def dev_environment(home: Path, demo: bool, data_dir_arg: str | None) -> dict:
    env = {**os.environ, **DAGSTER_SETTINGS}
    env["DAGSTER_HOME"] = str(home.resolve())
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)  # what --use-active-venv reads
    if demo:
        env[DEMO_ENV] = "1"
    if data_dir_arg:
        env["STRAVA_DATA_DIR"] = str(Path(data_dir_arg).expanduser().resolve())
    # the dbt executable of this environment, also when not started through `uv run`
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def dev_command(port: int, host: str = HOST) -> list[str]:
    """`dg dev`, the way Dagster 1.13 starts a project's UI (`dagster dev` warns that it is superseded), with this
    environment's Python for the code server and no defs.yaml to check."""
    dg = Path(sys.executable).parent / "dg"
    return [str(dg), "dev", "--use-active-venv", "--no-check-yaml", "--host", host, "--port", str(port)]


def check_port(port: int, host: str = HOST) -> None:
    if not 0 < port < 65536:
        raise UserError(f"--port {port} is not a port number: use 1-65535.")
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    f"{host}:{port} is in use (is the UI already running?): open "
                    f"http://{host}:{port} or pick another port with --port."
                ) from None
            raise


def launch(data_dir_arg: str | None = None, demo: bool = False, port: int = DEFAULT_PORT) -> int:
    """Replace this process with `dagster dev` run from the project root (where pyproject's [tool.dg] tells it
    to load orchestration.definitions); Ctrl-C stops it and everything it started."""
    check_port(port)
    data_dir = resolve_data_dir(data_dir_arg, demo=demo)
    home = prepare_home(data_dir)
    print(
        f"Starting the Dagster UI on http://{HOST}:{port} (takes about a minute; Ctrl-C stops it). "
        f"Data: {data_dir}{' (demo: the bundled fake Strava API)' if demo else ''}; DAGSTER_HOME={home}.",
        flush=True,
    )
    os.chdir(PROJECT_ROOT)
    # a shell starting this in the background leaves SIGINT ignored, and exec would pass that on: dagster dev
    # must get it to shut down the webserver, the daemon and the code servers it started
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    command = dev_command(port)
    os.execve(command[0], command, dev_environment(home, demo, data_dir_arg))
    return 0  # not reached


def main(argv: list | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m orchestration", description=__doc__)
    parser.add_argument("--demo", action="store_true", help="run against the bundled fake Strava API (data/demo)")
    parser.add_argument("--data-dir", metavar="PATH", help="data dir (default data/, env STRAVA_DATA_DIR)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, metavar="N", help=f"port on {HOST} (default {DEFAULT_PORT})"
    )
    args = parser.parse_args(argv)
    try:
        return launch(args.data_dir, demo=args.demo, port=args.port)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
