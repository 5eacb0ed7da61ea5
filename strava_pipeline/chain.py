"""The whole job after an import: dbt build, the reports, the heatmap tiles and the route map, one step at a time.

Each step calls what its own subcommand calls (`strava.py dbt build`, `reports build`, `tiles`, `map`). A step
whose prerequisite is missing (Node.js and npm) is skipped with one line saying how to get it; a step that fails
does not undo what came before (the import is committed before the first step starts), and the exit code names
the first step that failed."""

import argparse
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from strava_pipeline.config import UserError, strava_command

EXIT_DBT = 3
EXIT_REPORTS = 4
EXIT_TILES = 5
EXIT_MAP = 6
EXIT_CODES = (
    "exit codes: 0 done (a step whose prerequisite is missing is skipped, saying how to get it), 1 internal error, "
    f"2 bad input or a failed import, {EXIT_DBT} dbt build failed, {EXIT_REPORTS} reports build failed, "
    f"{EXIT_TILES} heatmap tiles failed, {EXIT_MAP} route map failed (what was imported is kept), 130 Ctrl-C"
)
NODE_HINT = "install Node.js 20 with npm (e.g. `apt-get install nodejs npm`)"


class Skipped(Exception):
    """A step's prerequisite is missing: the step is left out, with one sentence saying how to get it."""


@dataclass
class Step:
    name: str
    exit_code: int
    run: Callable  # (ctx) -> None; raises Skipped, UserError, or anything for an internal failure
    needs_models: bool = True  # skipped when the dbt build failed: the marts may be half built


def _dbt_build(ctx) -> None:
    from strava_pipeline.transform import build

    say = _say(ctx)
    say("Building the models and their tests (dbt build)...")
    result = build(ctx.data_dir)
    if result.returncode != 0:
        failed = ", ".join(result.failed[:3]) + (" ..." if len(result.failed) > 3 else "")
        raise UserError(
            f"dbt build failed ({result.summary()}{': ' + failed if failed else ''}); see {result.log} or run "
            f"`{strava_command(ctx.data_dir, 'dbt', 'build', demo=ctx.demo)}`"
        )
    say(f"dbt build: {result.summary()} in {result.seconds:.0f} s.")


def _reports(ctx) -> None:
    from strava_pipeline import reports

    try:
        reports.check_node()
    except UserError as exc:
        raise Skipped(f"the reports need Node.js with npm ({exc})") from None
    reports.run(_subcommand_args(reports, "reports", "build"), ctx)


def _maps_need_npm() -> str | None:
    from strava_pipeline.maps import settings

    modules = settings.NPM_DIR / "node_modules"
    if shutil.which("npm") or all((modules / source).exists() for source in settings.VENDOR_FILES.values()):
        return None
    return f"the map pages need Leaflet from npm: {NODE_HINT}, then run again"


def _tiles(ctx) -> None:
    from strava_pipeline.maps import command

    # the tiles need no Node; their browse page does, and run_tiles says so as a warning
    command.run_tiles(_subcommand_args(command, "tiles"), ctx)


def _map(ctx) -> None:
    from strava_pipeline.maps import command

    missing = _maps_need_npm()
    if missing:
        raise Skipped(missing)
    command.run_map(_subcommand_args(command, "map"), ctx)


STEPS = [
    Step("dbt build", EXIT_DBT, _dbt_build, needs_models=False),
    Step("reports", EXIT_REPORTS, _reports),
    Step("heatmap tiles", EXIT_TILES, _tiles),
    Step("route map", EXIT_MAP, _map),
]


def _subcommand_args(module, *argv: str) -> argparse.Namespace:
    """The arguments of `strava.py ARGV` with every option at its default, from the module's own parser."""
    parser = argparse.ArgumentParser()
    module.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def _say(ctx) -> Callable:
    return lambda line: print(line, file=ctx.out, flush=True)


def run_steps(ctx, steps: list[Step] | None = None) -> int:
    """Run the steps after an import; returns 0 or the exit code of the first step that failed."""
    say = _say(ctx)
    first_failure = 0
    models_failed = False
    done: list[str] = []
    for step in steps or STEPS:
        if models_failed and step.needs_models:
            say(f"{step.name}: skipped, the dbt build failed.")
            continue
        try:
            step.run(ctx)
        except Skipped as exc:
            say(f"{step.name}: skipped: {exc}.")
            continue
        except UserError as exc:
            print(f"error: {step.name}: {exc}", file=ctx.err, flush=True)
        except KeyboardInterrupt:
            raise
        except Exception:
            print(f"error: {step.name} failed:", file=ctx.err, flush=True)
            traceback.print_exc(file=ctx.err)
        else:
            done.append(step.name)
            report_to_dagster(ctx, step.name)
            continue
        first_failure = first_failure or step.exit_code
        models_failed = models_failed or step.exit_code == EXIT_DBT
    _where_to_look(ctx, done)
    return first_failure


def _where_to_look(ctx, done: list[str]) -> None:
    from strava_pipeline.maps.page import maps_dir
    from strava_pipeline.reports import DEFAULT_PORT, site_dir

    say = _say(ctx)
    serve = strava_command(ctx.data_dir, "reports", "serve", demo=ctx.demo)
    if (site_dir(ctx.data_dir) / "index.html").exists():
        say(f"Look at it: `{serve}`, then open http://127.0.0.1:{DEFAULT_PORT}/ (the route map at /maps/).")
    elif (maps_dir(ctx.data_dir) / "index.html").exists():
        say(f"Look at the route map: open {maps_dir(ctx.data_dir) / 'index.html'}.")
    elif "dbt build" in done:
        warehouse = Path(ctx.data_dir) / "strava.duckdb"
        say(f"The marts are in {warehouse} (schema marts): query them with DuckDB.")


def report_to_dagster(ctx, step: str) -> None:
    """Tell the Dagster instance of this data dir (if `strava.py ui` made one) what the step built."""
    from strava_pipeline.config import dagster_home

    if not (dagster_home(ctx.data_dir) / "dagster.yaml").exists():
        return  # no Dagster here: nothing to tell, and Dagster is not even imported
    from orchestration.cli_runs import report_step

    report_step(ctx.data_dir, step, err=ctx.err)
