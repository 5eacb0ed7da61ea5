"""The rough edges of a new user's first hour (issue 15): each test here failed before its fix."""

import io
import os
import re
import shlex
import shutil
import socket
import subprocess
import threading
import time
import tomllib
from pathlib import Path

import duckdb
import pytest

from strava_pipeline.cli import build_parser, main
from strava_pipeline.config import PROJECT_ROOT, resolve_data_dir, strava_command

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = main(list(args), out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


def one_sentence(rc: int, err: str) -> None:
    assert rc == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err


# ----------------------------------------------------------------------------------------- --data-dir a file

COMMANDS = [
    [],
    ["--plan"],
    ["auth"],
    ["dbt", "build"],
    ["import-archive", "x.zip"],
    ["reports", "build"],
    ["reports", "serve"],
    ["export"],
    ["tiles"],
    ["map"],
    ["ui"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "import")
def test_data_dir_that_is_a_file_is_one_sentence_for_every_command(tmp_path, command):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    for data_dir, demo in ((a_file, []), (a_file / "sub", []), (a_file, ["--demo"])):
        rc, _, err = run("--data-dir", str(data_dir), *demo, *command)
        one_sentence(rc, err)
        assert "is a file, not a folder" in err and str(a_file) in err
    assert a_file.read_text() == "not a folder"


def test_data_dir_from_the_environment_that_is_a_file(tmp_path, monkeypatch):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("")
    monkeypatch.setenv("STRAVA_DATA_DIR", str(a_file))
    rc, _, err = run("tiles")
    one_sentence(rc, err)
    assert f"STRAVA_DATA_DIR={a_file}" in err


# ------------------------------------------------------------------------------- options after the subcommand


@pytest.mark.parametrize(
    "argv",
    [
        ["import-archive", "X", "--data-dir", "D"],
        ["import-archive", "--data-dir", "D", "X"],
        ["--data-dir", "D", "import-archive", "X"],
    ],
)
def test_global_options_before_or_after_the_subcommand(argv):
    args = build_parser().parse_args(argv)
    assert args.command == "import-archive" and args.data_dir == "D"


@pytest.mark.parametrize("command", ["import", "import-archive"])
def test_import_only_before_or_after_an_import_subcommand(command):
    parser = build_parser()
    assert parser.parse_args(["--import-only", command, "X"]).import_only is True
    assert parser.parse_args([command, "X", "--import-only"]).import_only is True
    assert parser.parse_args([command, "X"]).import_only is False


def test_options_after_nested_subcommands_and_defaults_kept():
    parser = build_parser()
    args = parser.parse_args(["--data-dir", "E", "reports", "build", "--demo", "-v"])
    assert (args.data_dir, args.demo, args.verbose) == ("E", True, True)
    args = parser.parse_args(["--demo", "tiles"])
    assert (args.data_dir, args.demo, args.verbose) == (None, True, False)
    args = parser.parse_args(["tiles", "--data-dir", "F"])
    assert (args.data_dir, args.demo) == ("F", False)


def test_a_data_dir_after_the_subcommand_is_the_one_used(tmp_path):
    rc, _, err = run("tiles", "--data-dir", str(tmp_path / "d"), "--demo")
    one_sentence(rc, err)
    assert f"No warehouse at {tmp_path / 'd' / 'demo' / 'strava.duckdb'}" in err


# ------------------------------------------------------------------------------------------- exact hints


def _hinted_data_dir(hint: str) -> Path:
    words = shlex.split(hint)
    assert words[:3] == ["uv", "run", "strava.py"], hint
    args = build_parser().parse_args(words[3:])
    return resolve_data_dir(args.data_dir, demo=args.demo)


@pytest.mark.parametrize("demo", [False, True])
def test_hints_are_the_exact_command_for_the_data_dir(tmp_path, demo):
    base = tmp_path / "my data"
    data_dir = base / "demo" if demo else base
    data_dir.mkdir(parents=True)
    duckdb.connect(str(data_dir / "strava.duckdb")).close()  # a warehouse without marts
    flags = ["--data-dir", str(base), *(["--demo"] if demo else [])]
    for command in (["reports", "build"], ["tiles"], ["map"], ["export"]):
        rc, _, err = run(*flags, *command)
        one_sentence(rc, err)
        hints = re.findall(r"`([^`]*)`", err)
        assert hints, err
        assert "uv run dbt" not in err
        for hint in hints:
            # pasted in the project folder, the hint works on this very data dir
            assert _hinted_data_dir(hint) == data_dir, (hint, err)
        assert any(shlex.split(h)[-2:] == ["dbt", "build"] for h in hints), err


def test_dbt_without_a_warehouse_is_one_sentence_and_creates_nothing(tmp_path):
    for argv in (
        ["--data-dir", str(tmp_path / "d"), "--demo", "dbt", "build"],
        ["dbt", "build", "--data-dir", str(tmp_path / "d"), "--demo"],  # ours, not dbt's, wherever they stand
        ["dbt", "--demo", "test", "-s", "fct_activities", f"--data-dir={tmp_path / 'd'}"],
    ):
        rc, _, err = run(*argv)
        one_sentence(rc, err)
        assert "No warehouse at" in err and f"`uv run strava.py --data-dir {tmp_path / 'd'} --demo`" in err, argv
    assert not (tmp_path / "d").exists()


def test_hint_of_the_default_demo_is_short():
    assert strava_command(PROJECT_ROOT / "data" / "demo", "dbt", "build") == "uv run strava.py --demo dbt build"
    assert strava_command(PROJECT_ROOT / "data", "reports", "serve") == "uv run strava.py reports serve"
    assert _hinted_data_dir(strava_command(Path("/elsewhere/x y"))) == Path("/elsewhere/x y")


def test_no_hint_in_the_code_names_a_command_without_the_data_dir():
    # the old hint: `uv run dbt build --project-dir dbt_project ...` builds data/ whatever data dir was in use
    offenders = []
    for folder in ("strava_pipeline", "orchestration", "dbt_project/plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            if "uv run dbt" in path.read_text():
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# ------------------------------------------------------------------------------ reports serve, dropped clients


def test_serve_is_quiet_when_a_browser_drops_a_connection(tmp_path, capfd):
    from strava_pipeline.reports import make_server

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>hi</h1>")
    (site / "big.bin").write_bytes(os.urandom(16 * 1024 * 1024))
    server = make_server(site, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        for _ in range(3):
            client = socket.create_connection(("127.0.0.1", port))
            client.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            client.recv(1024)
            # close with a reset, like a browser that navigates away mid-download
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            client.close()
        time.sleep(1.0)
        with socket.create_connection(("127.0.0.1", port)) as client:  # still serving
            client.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
            assert b"200" in client.recv(100)
    finally:
        server.shutdown()
        server.server_close()
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "BrokenPipe" not in captured.err, captured.err
    assert "ConnectionReset" not in captured.err


# ------------------------------------------------------------------------------------- volume anomaly check


def _weekly_summary(con, counts: list[int]) -> None:
    con.execute(
        "create table weekly_summary (athlete_id bigint, week_start date, activity_count bigint, distance_km double)"
    )
    con.executemany(
        "insert into weekly_summary values (1, date '2016-01-04' + to_weeks(?), ?, ?)",
        [(i, n, 8.0 * n) for i, n in enumerate(counts)],
    )


def _history_with_sparse_archive_years(latest: int) -> list[int]:
    # six years of an archive with an activity every ten weeks, then two years of 3-5 activities a week
    sparse = [1 if i % 10 == 0 else 0 for i in range(6 * 52)]
    regular = [3 + (i * 7) % 3 for i in range(2 * 52)]
    return sparse + regular + [latest]


def _dbt_check_sql() -> str:
    text = (ROOT / "dbt_project" / "tests" / "assert_latest_week_volume_is_not_anomalous.sql").read_text()
    text = re.sub(r"\{\{\s*config\(.*?\)\s*\}\}", "", text)
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    return text.replace("{{ ref('weekly_summary') }}", "weekly_summary")


@pytest.mark.parametrize("latest, flagged", [(5, False), (4, False), (14, True)])
def test_dbt_volume_check_compares_with_recent_active_weeks(latest, flagged):
    with duckdb.connect() as con:
        _weekly_summary(con, _history_with_sparse_archive_years(latest))
        rows = con.sql(_dbt_check_sql()).fetchall()
    assert bool(rows) == flagged, rows


def test_report_flags_no_ordinary_week_after_sparse_history():
    sql = (ROOT / "reports" / "sources" / "strava" / "volume_anomalies.sql").read_text()
    counts = _history_with_sparse_archive_years(14)
    with duckdb.connect() as con:
        _weekly_summary(con, counts)
        flagged = con.sql(
            f"select activity_count from ({sql}) where is_anomalous and week_start > "
            "(select max(week_start) from weekly_summary) - interval 364 day order by week_start"
        ).fetchall()
    # the last year as the data-quality page shows it: the 14-activity week and no ordinary week of 3-5 (a mean
    # dragged down by the archive's empty weeks flagged dozens)
    assert flagged == [(14,)]


# ------------------------------------------------------------------------------------------------ bytecode


def test_uv_run_prints_no_bytecode_line():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "compile-bytecode" not in config["tool"]["uv"]
    assert "uv sync --compile-bytecode" in (ROOT / ".ci" / "run").read_text()
    uv = shutil.which("uv")
    if uv is None:
        if os.environ.get("CI"):
            pytest.fail("uv is not on PATH")
        pytest.skip("uv is not on PATH")
    proc = subprocess.run(
        [uv, "run", "--frozen", "python", "-c", "pass"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "Bytecode compiled" not in proc.stderr + proc.stdout


# ------------------------------------------------------------------------------------------ Dagster reports


def test_cli_steps_are_reported_to_dagster_as_materializations(tmp_path):
    import json

    import dagster as dg

    from orchestration.cli_runs import STEP_KEYS, report_step
    from orchestration.launcher import prepare_home

    data_dir = tmp_path / "data"
    home = prepare_home(data_dir)
    target = data_dir / "dbt_target"
    target.mkdir()
    (target / "manifest.json").write_text(
        json.dumps(
            {
                "nodes": {
                    "model.strava.fct_activities": {
                        "resource_type": "model",
                        "schema": "marts",
                        "name": "fct_activities",
                    },
                    "model.strava.broken": {"resource_type": "model", "schema": "marts", "name": "broken"},
                }
            }
        )
    )
    (target / "run_results.json").write_text(
        json.dumps(
            {
                "results": [
                    {"unique_id": "model.strava.fct_activities", "status": "success"},
                    {"unique_id": "model.strava.broken", "status": "error"},
                ]
            }
        )
    )
    err = io.StringIO()
    assert report_step(data_dir, "dbt build", err) == 1
    assert report_step(data_dir, "reports", err) == 1
    assert err.getvalue() == ""
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_activities"])) is not None
        assert instance.get_latest_materialization_event(dg.AssetKey(["marts", "broken"])) is None
        assert instance.get_latest_materialization_event(dg.AssetKey(STEP_KEYS["reports"][0])) is not None
    finally:
        instance.dispose()


def test_reported_keys_are_the_assets_of_the_definitions():
    from orchestration.cli_runs import STEP_KEYS
    from orchestration.defs.maps import ROUTE_MAP_KEY, TILES_KEY
    from orchestration.defs.reports import SITE_KEY

    assert STEP_KEYS == {
        "reports": [SITE_KEY.path],
        "heatmap tiles": [TILES_KEY.path],
        "route map": [ROUTE_MAP_KEY.path],
    }


def test_a_warehouse_without_any_route_gets_an_empty_route_index(tmp_path):
    """Indoor rides only (or no streams yet): no masked route at all is an empty index, not DuckDB's executemany
    error ending the reports build."""
    from strava_pipeline import reports

    warehouse = tmp_path / "strava.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_activities (activity_id bigint, athlete_id bigint, start_date_local date, "
            "sport_type varchar, activity_name varchar, start_at_utc timestamp)"
        )
        con.execute("insert into marts.fct_activities values (1, 7, '2025-01-01', 'VirtualRide', 'Zwift', now())")
        con.execute("create table marts.activity_routes_masked (activity_id bigint, route_geojson varchar)")
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as {reports.WH} (read_only)")
        assert reports._export_routes(con) == {}
        assert con.sql("select count(*) from main.routes").fetchone() == (0,)
