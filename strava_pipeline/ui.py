"""`strava.py ui`: the Dagster UI of this project (assets, schedules, backfills, checks) on 127.0.0.1."""

import argparse

DEFAULT_PORT = 3000


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "ui",
        help="start the Dagster UI on 127.0.0.1 (assets, schedules, backfills; Ctrl-C stops)",
        description="Start `dagster dev` for this project on 127.0.0.1 with DAGSTER_HOME in <data dir>/dagster and "
        "telemetry off. With --demo every run uses the bundled fake Strava API and data/demo/.",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, metavar="N", help=f"port on 127.0.0.1 (default {DEFAULT_PORT})"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, ctx) -> int:
    from orchestration.launcher import launch  # Dagster is only imported for this command

    return launch(args.data_dir, demo=args.demo, port=args.port)
