"""Command line of `uv run strava.py`: the whole job (import, dbt, reports, maps), backfills, the plan, the demo,
the OAuth set-up and the subcommands of each step."""

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from strava_pipeline.api.runner import RunOptions, RunSummary, run_import
from strava_pipeline.chain import EXIT_CODES
from strava_pipeline.clock import SystemClock
from strava_pipeline.config import (
    StravaConfig,
    UserError,
    load_strava_config,
    parse_day,
    request_timeout,
    resolve_data_dir,
    strava_command,
)
from strava_pipeline.progress import Reporter

PROG = "strava.py"
DESCRIPTION = (
    "The whole job: load your Strava activities, their detail and streams into a local DuckDB warehouse, run "
    "`dbt build`, then refresh the reports, the heatmap tiles and the route map, and say where to look. "
    "Without dates: the last 30 days on the first run, then everything new since the last run. "
    "The options under 'where' work before or after a COMMAND."
)
EPILOG = (
    "examples:\n"
    "  uv run strava.py --demo --start-date 2022-01-01   the bundled fake athlete, no account needed\n"
    "  uv run strava.py                                  what is new since the last run, then everything else\n"
    "  uv run strava.py --start-date 2019-01-01 --end-date 2019-12-31   backfill 2019\n"
    "  uv run strava.py --import-only                    load only; dbt, reports and maps later\n"
    "  uv run strava.py --plan                           how many requests and days the remaining work needs\n"
    "\n" + EXIT_CODES
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other input error
        raise UserError(f"{message}: see `uv run {PROG} --help`.")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.add_parser(
        "auth",
        help="authorize this app with Strava once and store the tokens (mode 600)",
        description="Print the Strava authorize URL, take the pasted code or redirect URL, "
        "exchange it and store the tokens (mode 600) in the data dir.",
    )
    _add_dbt_parser(commands)
    for module in _command_modules():
        module.add_parser(commands)
    window = parser.add_argument_group("what to load")
    window.add_argument(
        "--start-date",
        metavar="YYYY-MM-DD",
        help="backfill from this day (UTC); does not move the saved incremental state",
    )
    window.add_argument(
        "--end-date", metavar="YYYY-MM-DD", help="backfill up to and including this day (UTC); default today"
    )
    window.add_argument(
        "--detail",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fetch activity detail with laps, splits and best efforts, athlete stats and gear (default: on)",
    )
    window.add_argument(
        "--streams",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fetch the recorded streams: time, latlng, heart rate, power... (default: on)",
    )
    window.add_argument(
        "--zones",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also fetch per-activity zones, one more request each (default: off; time in zones "
        "is computed from the streams)",
    )
    window.add_argument(
        "--reconcile",
        action="store_true",
        help="list all activities (1 request per 200) to pick up edits and flag deletions",
    )
    window.add_argument(
        "--import-only",
        action="store_true",
        help="stop after the import: no dbt build, reports, tiles or map",
    )
    budget = parser.add_argument_group("rate limits")
    budget.add_argument(
        "--plan",
        action="store_true",
        help="list new activities only and print the requests and days the remaining work needs",
    )
    budget.add_argument(
        "--no-wait", dest="wait", action="store_false", help="stop instead of waiting for the next 15-minute window"
    )
    budget.add_argument(
        "--max-requests",
        type=int,
        metavar="N",
        help="spend at most N requests in this run (headroom for your other apps)",
    )
    _add_global_options(parser, suppress=False)
    for sub in _subparsers(parser):
        _add_global_options(sub, suppress=True)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """--data-dir, --demo, -v: on the main parser with their defaults, and on every subcommand with no default,
    so that a value given after the subcommand wins and none given leaves the main parser's value alone."""
    default = {"default": argparse.SUPPRESS} if suppress else {}
    where = parser.add_argument_group("where")
    where.add_argument(
        "--data-dir",
        metavar="PATH",
        help="folder for the warehouse, tokens and state (default data/, env STRAVA_DATA_DIR)",
        **default,
    )
    where.add_argument(
        "--demo",
        action="store_true",
        help="run against the bundled fake Strava API with a generated athlete, in data/demo/",
        **default,
    )
    where.add_argument(
        "--athlete",
        type=int,
        metavar="ID",
        help="import only this authorized athlete (default: every athlete `auth` added); with import: whose "
        "export or files these are",
        **default,
    )
    where.add_argument("-v", "--verbose", action="store_true", help="log every request and retry", **default)


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every subcommand's parser, nested ones (`reports build`) included."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += [sub, *_subparsers(sub)]
    return found


def _add_dbt_parser(commands) -> None:
    dbt = commands.add_parser(
        "dbt",
        help="run dbt on this data dir's warehouse (default `dbt build`); results in <data dir>/dbt_target",
        description="Run dbt in dbt_project/ on <data dir>/strava.duckdb (the demo's with --demo), e.g. "
        "`uv run strava.py --demo dbt build` or `uv run strava.py dbt test -s fct_activities`. Its results go to "
        "<data dir>/dbt_target, where the data-quality page reads them (Dagster's dbt runs write there too). "
        "Everything else in DBT_ARGS goes to dbt; --data-dir and --demo may stand anywhere.",
    )
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER, metavar="DBT_ARGS", help="dbt command (default: build)")
    dbt.set_defaults(run=_run_dbt)


def _take_global_options(args: argparse.Namespace) -> None:
    """--data-dir and --demo among the arguments passed to dbt (which has neither) are ours."""
    rest, words = [], iter(args.dbt_args)
    for word in words:
        if word == "--demo":
            args.demo = True
        elif word == "--data-dir":
            args.data_dir = next(words, None)
            if args.data_dir is None:
                raise UserError("--data-dir needs a folder, e.g. --data-dir data/.")
        elif word.startswith("--data-dir="):
            args.data_dir = word.split("=", 1)[1]
        else:
            rest.append(word)
    args.dbt_args = rest


def _run_dbt(args: argparse.Namespace, ctx) -> int:
    from strava_pipeline import warehouses
    from strava_pipeline.transform import run_dbt

    if not warehouses.exists(ctx.data_dir):  # dbt would fail on it with a page of its own output
        raise UserError(
            f"No warehouse at {warehouses.describe(ctx.data_dir)} for dbt: load one with "
            f"`{strava_command(ctx.data_dir, demo=ctx.demo)}`."
        )
    code = run_dbt(ctx.data_dir, args.dbt_args or ["build"], ctx.out)
    if code == 0 and (args.dbt_args or ["build"])[0] in ("build", "run", "seed", "test"):
        from strava_pipeline.chain import report_to_dagster

        report_to_dagster(ctx, "dbt build")
    return code


# other subcommands live in their own modules: add_parser(commands) registers them, run(args, ctx) executes
COMMAND_MODULES: list[str] = [
    "strava_pipeline.archive.command",
    "strava_pipeline.reports",
    "strava_pipeline.maps.command",
    "strava_pipeline.ui",
]


@dataclass
class CommandContext:
    data_dir: Path
    clock: object
    out: TextIO
    err: TextIO
    demo: bool


def _command_modules() -> list:
    return [importlib.import_module(name) for name in COMMAND_MODULES]


def options_from_args(args: argparse.Namespace, today: date) -> RunOptions:
    start, end = parse_day(args.start_date, "--start-date"), parse_day(args.end_date, "--end-date")
    if start and start > today:
        raise UserError(f"--start-date {start} is in the future: pick a day up to today ({today}).")
    if start and end and end < start:
        raise UserError(f"--end-date {end} is before --start-date {start}: swap them or pick a later end.")
    if args.max_requests is not None and args.max_requests < 1:
        raise UserError("--max-requests must be a positive number of requests.")
    if args.plan and args.reconcile:
        raise UserError("--plan and --reconcile do different listings: use one of them.")
    return RunOptions(
        data_dir=resolve_data_dir(args.data_dir, demo=args.demo),
        timeout=request_timeout(),
        start_date=start,
        end_date=end,
        detail=args.detail,
        streams=args.streams,
        zones=args.zones,
        wait=args.wait,
        max_requests=args.max_requests,
        plan=args.plan,
        reconcile=args.reconcile,
        athlete_id=args.athlete,
    )


def _n(x: int) -> str:
    return f"{x:,}"


def _kinds_text(opts: RunOptions) -> str:
    names = {"detail": "detail", "streams": "streams", "zones": "zones"}
    kinds = [names[k] for k in opts.kinds]
    return " and ".join(kinds) if kinds else "nothing"


def print_summary(s: RunSummary, opts: RunOptions, out=sys.stdout) -> None:
    p = lambda line="": print(line, file=out, flush=True)  # noqa: E731
    if opts.plan:
        p(
            f"Plan: {_n(s.new_activities)} new and {_n(s.updated_activities)} known activities listed; "
            f"{_n(s.remaining_items)} activities still need {_kinds_text(opts)}: {_n(s.remaining_requests)} requests, "
            f"about {s.days_left} day(s) at the current limits."
        )
    if s.stop is not None:
        if s.stop.cap:
            p(
                f"Stopped at {s.stop.reason}: {_n(s.remaining_items)} activities still need {_kinds_text(opts)}; "
                "run again to continue."
            )
        elif s.stop.daily:
            why = "" if s.stop.reason == "daily limit reached" else f" ({s.stop.reason})"
            p(
                f"Daily read limit reached{why}: {_n(s.requests)} requests used, "
                f"{_n(s.remaining_items)} activities still need {_kinds_text(opts)}; run again after 00:00 UTC "
                f"(about {s.days_left} more day(s) at this pace)."
            )
        else:
            p(
                f"Stopped: {s.stop.reason}; {_n(s.remaining_items)} activities still need {_kinds_text(opts)}; "
                "run again after the next quarter hour."
            )
    if s.interrupted:
        p("Stopped by Ctrl-C: everything fetched so far is saved; run again to continue.")
    p(
        f"Activities: {_n(s.new_activities)} new, {_n(s.updated_activities)} updated"
        + (f", {_n(s.deleted_activities)} flagged deleted" if opts.reconcile else "")
        + f"; {_n(s.items_done)} fetched in detail; {_n(s.stream_points)} stream points."
    )
    p(f"API requests: {_n(s.requests)} (+{s.token_requests} token); warehouse: {s.warehouse} (dataset strava).")
    if s.skipped:
        p(f"{len(s.skipped)} of {s.athletes} athletes skipped (their token was refused; see above).")
    if s.failed:
        p(f"{len(s.failed)} item(s) failed and stay queued for the next run, e.g. {s.failed[0]}.")
    if not opts.plan and s.stop is None and not s.interrupted and s.remaining_items:
        p(f"{_n(s.remaining_items)} activities still queued ({_n(s.remaining_requests)} requests).")


def cmd_auth(cfg: StravaConfig, data_dir: Path, read=None, out=sys.stdout) -> None:
    import requests

    from strava_pipeline.api import athletes
    from strava_pipeline.api.auth import StravaAuth, authorize_url, code_from_paste

    print("1. Open this address in a browser, log in to Strava and press Authorize:", file=out)
    print(f"   {authorize_url(cfg)}", file=out)
    print("2. The browser then goes to a page on localhost that does not load: that is expected.", file=out)
    print("   Copy the whole address of that page (or just the value of code=) and paste it here.", file=out)
    try:
        pasted = (read or input)("Code or URL: ")
    except EOFError:
        raise UserError(
            f"No code was given: run `{strava_command(data_dir, 'auth')}` in a terminal and paste the code."
        ) from None
    code = code_from_paste(pasted)
    # the exchange says whose tokens these are: they are written aside, then moved to that athlete's file
    pending = athletes.pending_store(data_dir)
    first = not athletes.authorized(data_dir) and not cfg.refresh_token
    auth = StravaAuth(cfg, pending, requests.Session(), SystemClock(), data_dir=data_dir)
    try:
        body = auth.exchange_code(code)
    finally:
        saved = athletes.settle(pending, data_dir, bool(cfg.refresh_token)) if pending.path.exists() else None
    athlete = body.get("athlete") or {}
    who = (
        " ".join(x for x in (athlete.get("firstname"), athlete.get("lastname")) if x) or f"athlete {athlete.get('id')}"
    )
    print(
        f"Authorized as {who}; tokens saved to {saved} (mode 600). Now run `{strava_command(data_dir)}`"
        + ("" if first else "; every run imports all authorized athlete(s), `--athlete ID` one of them")
        + ".",
        file=out,
    )


def main(argv: Sequence[str] | None = None, clock=None, out=sys.stdout, err=sys.stderr) -> int:
    clock = clock or SystemClock()
    try:
        args = build_parser().parse_args(argv)
        if args.command == "dbt":
            _take_global_options(args)
        if args.command == "dbt" and args.dbt_args[:1] and args.dbt_args[0].startswith("-"):
            example = strava_command(resolve_data_dir(args.data_dir, demo=args.demo), "dbt", "build")
            raise UserError(f"dbt needs a command before {args.dbt_args[0]}, e.g. `{example}`.")
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.ERROR,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        today = datetime.fromtimestamp(clock.now(), UTC).date()
        opts = options_from_args(args, today)
        if args.command and args.command != "auth":
            # commands that work on the warehouse or files need no Strava credentials
            return args.run(args, CommandContext(opts.data_dir, clock, out, err, args.demo))
        with ExitStack() as stack:
            if args.demo:
                from strava_pipeline.demo import demo_config  # the fake API is only loaded for the demo

                cfg = demo_config(stack, opts.data_dir, clock)
            else:
                cfg = load_strava_config(require_refresh_token=False)
            if args.command == "auth":
                cmd_auth(cfg, opts.data_dir, out=out)
                return 0
            summary = run_import(opts, cfg, clock=clock, reporter=Reporter(stream=out, clock=clock))
        print_summary(summary, opts, out=out)
        if summary.interrupted:
            return 130
        # an athlete left out (token refused) is a failed import for them: 2 once the others are done
        skipped = 2 if summary.skipped else 0
        if opts.plan or args.import_only:
            return skipped
    except UserError as exc:
        print(f"error: {exc}", file=err, flush=True)
        return 2
    except KeyboardInterrupt:
        print("Stopped by Ctrl-C before anything was fetched.", file=err, flush=True)
        return 130
    from strava_pipeline.chain import run_steps

    ctx = CommandContext(opts.data_dir, clock, out, err, args.demo)
    try:
        code = run_steps(ctx)  # the other athletes' data is built even when one was skipped
        return skipped or code
    except KeyboardInterrupt:
        print("Stopped by Ctrl-C: the import is saved; run again to build the rest.", file=err, flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
