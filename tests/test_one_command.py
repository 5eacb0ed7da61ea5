"""`uv run strava.py` runs the whole job: import, dbt build, reports, tiles, map; each step's failure has its code."""

import io
import json
import sys
from pathlib import Path

import duckdb
import pytest

from strava_pipeline import chain, transform
from strava_pipeline.api.workqueue import pending
from strava_pipeline.cli import CommandContext, build_parser, main
from strava_pipeline.clock import FakeClock
from strava_pipeline.config import UserError
from tests.conftest import NOW

# a month of the demo athlete before the tests' fixed "now": about 17 activities
START = "2026-10-20"


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = main(["--data-dir", str(data_dir), "--demo", *args], clock=FakeClock(NOW), out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


class WarehouseSql:
    """The two calls of dlt's sql client that the work queue makes, over a DuckDB connection."""

    def __init__(self, con) -> None:
        self.con = con

    def execute_sql(self, query: str, *params):
        return self.con.execute(query, list(params)).fetchall()

    def make_qualified_table_name(self, table: str) -> str:
        return f"strava.strava.{table}"


@pytest.fixture
def without_node(monkeypatch):
    """A PATH with this environment's Python and dbt but no Node.js or npm."""
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))


def test_one_command_without_node_builds_models_and_maps_and_says_where_to_look(tmp_path, without_node):
    from orchestration.launcher import prepare_home

    home = prepare_home(tmp_path / "demo")  # `strava.py ui` ran here once: the CLI's steps are reported to it
    rc, out, err = run(tmp_path, "--start-date", START)
    assert rc == 0, err + out
    assert "warning" not in err, err
    lines = out.splitlines()
    assert any(line.startswith("dbt build: ") and " pass" in line for line in lines), out
    skipped = [line for line in lines if line.startswith("reports: skipped")]
    assert len(skipped) == 1 and "Node.js" in skipped[0] and "apt-get install nodejs npm" in skipped[0], out
    assert any(line.startswith("Heatmap tiles: full rebuild") for line in lines), out
    assert lines[-1].startswith("Look at"), out
    data_dir = tmp_path / "demo"
    assert (data_dir / "tiles" / "tiles.json").exists()

    # one place for the dbt results, whoever ran dbt: the data-quality page reads this folder
    from strava_pipeline import reports

    results = data_dir / "dbt_target" / "run_results.json"
    assert json.loads(results.read_text())["args"]["which"] == "build"
    assert reports.dbt_target_dir(data_dir) == transform.results_dir(data_dir) == results.parent

    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        for key in (["marts", "fct_activities"], ["staging", "stg_strava__activities"], ["tiles", "heatmap"]):
            event = instance.get_latest_materialization_event(dg.AssetKey(key))
            assert event is not None and event.asset_materialization.description.startswith("built by `strava.py`")
        assert instance.get_latest_materialization_event(dg.AssetKey(["reports", "site"])) is None  # skipped
    finally:
        instance.dispose()

    # one definition of the remaining work: an activity from an archive is not fetched from the API, so it is no
    # remaining work for the import's queue, nor for the data-quality page
    with duckdb.connect(str(data_dir / "strava.duckdb")) as con:
        con.execute(
            "insert into strava.strava.activities select * replace (id + 1000000000 as id, 'archive' as source) "
            "from strava.strava.activities limit 1"
        )
    rc, _, err = run(tmp_path, "dbt", "build", "-s", "import_progress")
    assert rc == 0, err
    with duckdb.connect(str(data_dir / "strava.duckdb"), read_only=True) as con:
        queue = pending(WarehouseSql(con), ["detail", "streams"])
        mart = dict(con.sql("select fetch_kind, sum(pending_count) from marts.import_progress group by 1").fetchall())
    for kind in ("detail", "streams"):
        assert mart[kind] == sum(kind in item.kinds for item in queue), (kind, mart, queue)


def test_import_only_stops_after_the_import(tmp_path):
    rc, out, err = run(tmp_path, "--start-date", START, "--import-only")
    assert rc == 0, err
    assert "Activities:" in out and "dbt build" not in out
    assert not (tmp_path / "demo" / "dbt_target").exists() and not (tmp_path / "demo" / "tiles").exists()


def test_a_failed_dbt_build_keeps_the_import_and_says_so_in_the_exit_code(tmp_path, without_node, monkeypatch):
    def failed_build(data_dir):
        return transform.BuildResult(1, 1.0, Path(data_dir) / "dbt_target" / "dbt_output.log", {"error": 1}, ["x"])

    monkeypatch.setattr(transform, "build", failed_build)
    rc, out, err = run(tmp_path, "--start-date", START)
    assert rc == chain.EXIT_DBT == 3
    assert "error: dbt build: dbt build failed (1 error: x)" in err
    assert "`uv run strava.py --data-dir" in err and "--demo dbt build`" in err
    for step in ("reports", "heatmap tiles", "route map"):
        assert f"{step}: skipped, the dbt build failed." in out
    with duckdb.connect(str(tmp_path / "demo" / "strava.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from strava.strava.activities").fetchone()[0] > 0


def test_steps_report_skips_and_the_first_failure(tmp_path):
    calls = []

    def skipped(ctx):
        calls.append("a")
        raise chain.Skipped("needs a thing: install it")

    def user_error(ctx):
        calls.append("b")
        raise UserError("bad input")

    def crash(ctx):
        calls.append("c")
        raise RuntimeError("boom")

    def fine(ctx):
        calls.append("d")

    out, err = io.StringIO(), io.StringIO()
    ctx = CommandContext(tmp_path, None, out, err, False)
    steps = [
        chain.Step("first", 10, skipped, needs_models=False),
        chain.Step("second", 11, user_error, needs_models=False),
        chain.Step("third", 12, crash, needs_models=False),
        chain.Step("fourth", 13, fine, needs_models=False),
    ]
    assert chain.run_steps(ctx, steps) == 11
    assert calls == ["a", "b", "c", "d"]
    assert "first: skipped: needs a thing: install it." in out.getvalue()
    assert "error: second: bad input" in err.getvalue()
    assert "error: third failed:" in err.getvalue() and "RuntimeError: boom" in err.getvalue()


def test_help_documents_the_exit_codes():
    text = build_parser().format_help()
    assert "--import-only" in text
    for code, step in ((3, "dbt build"), (4, "reports build"), (5, "heatmap tiles"), (6, "route map")):
        assert f"{code} {step} failed" in " ".join(text.split())


@pytest.mark.parametrize("command", ["import", "import-archive"])
def test_an_import_of_files_goes_on_with_the_rest_of_the_job(tmp_path, monkeypatch, command):
    """Most people come with an export or device files, not an API app: `import` is their one command. The steps
    after it are recorded here (each is tested on its own above); a failing one keeps the import and sets the code."""
    from tests.support.reference import FILES, query, require

    export = require(FILES / "sample_export.zip")
    ran = []
    steps = [
        chain.Step("dbt build", chain.EXIT_DBT, lambda ctx: ran.append(("dbt", ctx.data_dir)), needs_models=False),
        chain.Step("reports", chain.EXIT_REPORTS, lambda ctx: ran.append(("reports", ctx.data_dir))),
    ]
    monkeypatch.setattr(chain, "STEPS", steps)
    data_dir = tmp_path / "data"
    out, err = io.StringIO(), io.StringIO()
    rc = main(["--data-dir", str(data_dir), command, str(export)], clock=FakeClock(NOW), out=out, err=err)
    assert rc == 0, err.getvalue()
    assert ran == [("dbt", data_dir), ("reports", data_dir)]
    assert query(data_dir, "select count(*) from strava.activities")[0][0] > 0

    ran.clear()
    out, err = io.StringIO(), io.StringIO()
    rc = main(
        ["--data-dir", str(data_dir), command, "--import-only", str(export)], clock=FakeClock(NOW), out=out, err=err
    )
    assert rc == 0 and ran == [], err.getvalue()

    def failing(ctx):
        raise UserError("the marts are broken")

    steps[0] = chain.Step("dbt build", chain.EXIT_DBT, failing, needs_models=False)
    rc = main(["--data-dir", str(data_dir), command, str(export)], clock=FakeClock(NOW), out=out, err=err)
    assert rc == chain.EXIT_DBT and "error: dbt build: the marts are broken" in err.getvalue()
    assert ran == []  # the reports need the models: skipped
    assert query(data_dir, "select count(*) from strava.activities")[0][0] > 0
