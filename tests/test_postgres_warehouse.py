"""STRAVA_WAREHOUSE=postgres: the demo imported into a throwaway PostgreSQL + PostGIS, the whole dbt project builds
there with the same tests (assert_no_point_inside_privacy_zone and the curves' unit tests too), every relation has
the row count DuckDB has for the same input, the power and pace curves, FTP and zones the same numbers, the maps read
it; an unreachable server is one sentence and exit code 2 with nothing written anywhere."""

import io
import json

import duckdb
import pytest

from strava_pipeline import warehouses
from strava_pipeline.cli import main
from strava_pipeline.clock import FakeClock
from tests.conftest import NOW, REFERENCE
from tests.support.postgres import PostgresServer, PostgresUnavailable, free_port

# a month of the demo athlete before the tests' fixed "now"
START = "2026-10-20"
SCHEMAS = ("staging", "intermediate", "marts", "seeds")
# the curves' numbers, keyed by what identifies a row, compared value by value between the engines: within 0.5 W and
# 0.5 s like benchmarks/bench_curves.py (both engines add the same doubles, in orders that may differ)
CURVE_VALUES = {
    "activity_power_curve": ("activity_id, duration_s", "power_w, window_end_s - window_start_s"),
    "power_curve": ("athlete_id, sport_type, period, duration_s", "power_w"),
    "activity_pace_curve": ("activity_id, curve_kind, effort", "duration_s, distance_m, pace_s_per_km"),
    "pace_curve": ("athlete_id, sport_type, period, curve_kind, effort", "duration_s, distance_m, pace_s_per_km"),
    "ftp_history": ("athlete_id, month_start", "month_best_20min_w, estimated_ftp_w"),
    "time_in_zones": ("activity_id, zone_type, zone", "time_s, lower_bound"),
}
TOLERANCE = 0.5


def run(data_dir, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = main(["--data-dir", str(data_dir), "--demo", *args], clock=FakeClock(NOW), out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def postgres():
    try:
        server = PostgresServer()
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL + PostGIS here: {exc}")
    yield server
    server.stop()


@pytest.fixture
def on_postgres(postgres, monkeypatch, request):
    """The switch and dlt's credentials key, as a user sets them, pointing at a fresh database."""
    url = postgres.create_database(request.node.name[:40].lower())
    monkeypatch.setenv("STRAVA_WAREHOUSE", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", url.replace("postgres@", "postgres:unused@"))
    return postgres


def relation_counts_duckdb(path) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables where table_schema in ?", [list(SCHEMAS)]
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from strava."{s}"."{t}"').fetchone()[0] for s, t in names}


def relation_counts_postgres() -> dict:
    con = warehouses.connect()
    try:
        with con.cursor() as cur:
            cur.execute(
                "select table_schema, table_name from information_schema.tables where table_schema = any(%s)",
                (list(SCHEMAS),),
            )
            counts = {}
            for s, t in cur.fetchall():
                cur.execute(f'select count(*) from "{s}"."{t}"')
                counts[f"{s}.{t}"] = cur.fetchone()[0]
            return counts
    finally:
        con.close()


def curve_values(rows) -> dict:
    """{key tuple: value tuple} of (key..., value...) rows, keys as text (dates and ids read alike from both)."""
    return {tuple(map(str, row[:-1])): row[-1] for row in rows}


def curve_values_duckdb(path) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            model: curve_values(con.execute(f"select {keys}, [{values}] from marts.{model}").fetchall())
            for model, (keys, values) in CURVE_VALUES.items()
        }


def curve_values_postgres() -> dict:
    con = warehouses.connect()
    try:
        with con.cursor() as cur:
            found = {}
            for model, (keys, values) in CURVE_VALUES.items():
                cur.execute(f"select {keys}, array[{values}]::float8[] from marts.{model}")
                found[model] = curve_values(cur.fetchall())
            return found
    finally:
        con.close()


def differences(on_pg: dict, on_duck: dict) -> dict:
    """Per model: keys only one engine has, and values further apart than TOLERANCE (NULL only against NULL)."""
    found = {}
    for model, duck in on_duck.items():
        pg = on_pg[model]
        apart = {
            key: (pg[key], duck[key])
            for key in pg.keys() & duck.keys()
            if any(
                (a is None) != (b is None) or (a is not None and abs(float(a) - float(b)) > TOLERANCE)
                for a, b in zip(pg[key], duck[key], strict=True)
            )
        }
        if apart or pg.keys() != duck.keys():
            found[model] = {"only_pg": pg.keys() - duck.keys(), "only_duckdb": duck.keys() - pg.keys(), "apart": apart}
    return found


def build_models(data_dir, *selection: str) -> None:
    rc, out, err = run(data_dir, "dbt", "build", *selection)
    assert rc == 0, (err + out)[-3000:]
    results = json.loads((data_dir / "demo" / "dbt_target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    assert statuses.get("test.strava.assert_no_point_inside_privacy_zone") == "pass", statuses
    assert all(s in ("success", "pass") for s in statuses.values()), statuses


def snapshot_summary(data_dir) -> dict:
    """Rows per table of the reports' snapshot made from this warehouse, and the weekly moving hours' total."""
    from strava_pipeline import reports

    snapshot = data_dir / "snapshot-test.duckdb"
    reports.export_snapshot(warehouses.readable_warehouse(data_dir, reports.read_relations()), snapshot)
    with duckdb.connect(str(snapshot), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        rows = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables if t != "snapshot_info"}
        hours = con.execute("select round(sum(moving_time_h), 3) from weekly_summary").fetchone()[0]
        names = con.execute("select athlete_name from athletes order by athlete_rank").fetchall()
    # the profile's name on the athlete selector, not "Athlete <id>", on both engines
    assert names and not any(n.startswith("Athlete ") for (n,) in names), names
    return {**rows, "weekly moving_time_h": hours, "athlete names": names}


@pytest.mark.slow
def test_demo_on_postgres_builds_the_same_marts_as_duckdb(tmp_path, on_postgres, monkeypatch):
    pg_dir, duck_dir = tmp_path / "pg", tmp_path / "duck"

    rc, out, err = run(pg_dir, "--start-date", START, "--import-only")
    assert rc == 0, err + out
    assert not (pg_dir / "demo" / "strava.duckdb").exists()  # PostgreSQL only: no DuckDB file was written
    build_models(pg_dir)
    on_pg = relation_counts_postgres()
    curves_on_pg = curve_values_postgres()
    routes_on_pg = run(pg_dir, "export", "--format", "geojson")
    snapshots = [snapshot_summary(pg_dir / "demo")]
    monkeypatch.setenv("STRAVA_WAREHOUSE", "duckdb")
    rc, out, err = run(duck_dir, "--start-date", START, "--import-only")
    assert rc == 0, err + out
    build_models(duck_dir)
    on_duck = relation_counts_duckdb(duck_dir / "demo" / "strava.duckdb")
    curves_on_duck = curve_values_duckdb(duck_dir / "demo" / "strava.duckdb")
    routes_on_duck = run(duck_dir, "export", "--format", "geojson")
    snapshots.append(snapshot_summary(duck_dir / "demo"))

    assert on_pg["marts.fct_activities"] > 10 and on_pg["marts.activity_routes_masked"] > 0
    differing = {k: (on_pg.get(k), on_duck.get(k)) for k in {*on_pg, *on_duck} if on_pg.get(k) != on_duck.get(k)}
    assert not differing, differing

    # the curves (whole project on both engines now): rides with power and runs in the month, the same numbers
    assert all(on_pg[f"marts.{m}"] > 0 for m in ("activity_power_curve", "activity_pace_curve", "time_in_zones"))
    assert on_pg["marts.year_in_review"] > 0 and on_pg["intermediate.int_activity_streams__1hz"] > 0
    assert not differences(curves_on_pg, curves_on_duck), differences(curves_on_pg, curves_on_duck)

    # the reports' snapshot of the marts: the same tables and rows, numbers where DuckDB has numbers
    assert snapshots[0] == snapshots[1], snapshots

    # the maps read the masked routes from PostgreSQL: the same features as from DuckDB
    assert routes_on_pg[0] == routes_on_duck[0] == 0, routes_on_pg[2] + routes_on_duck[2]
    features = [
        json.loads((d / "demo" / "exports" / "routes.geojson").read_text())["features"] for d in (pg_dir, duck_dir)
    ]
    assert len(features[0]) == len(features[1]) == on_pg["marts.activity_routes_masked"]


def raw_counts(data_dir) -> tuple:
    """Rows of activities and activity_streams in the selected warehouse of this data dir."""
    with warehouses.make_pipeline(data_dir).sql_client() as sql:
        tables = [sql.make_qualified_table_name(t) for t in ("activities", "activity_streams")]
        return tuple(sql.execute_sql(f"select count(*) from {t}")[0][0] for t in tables)


def test_archive_and_device_files_import_into_postgres_like_into_duckdb(tmp_path, on_postgres, monkeypatch):
    paths = [REFERENCE / "files" / "sample_export.zip", REFERENCE / "files" / "gpx"]
    if not all(p.exists() for p in paths):
        pytest.skip(f"reference files missing under {REFERENCE}")
    counts = {}
    for warehouse in ("postgres", "duckdb"):
        monkeypatch.setenv("STRAVA_WAREHOUSE", warehouse)
        data_dir = tmp_path / warehouse
        out, err = io.StringIO(), io.StringIO()
        rc = main(
            ["--data-dir", str(data_dir), "import", "--import-only", *map(str, paths)],
            clock=FakeClock(NOW),
            out=out,
            err=err,
        )
        assert rc == 0, err.getvalue() + out.getvalue()
        assert ("warehouse: PostgreSQL 127.0.0.1:" in out.getvalue()) == (warehouse == "postgres"), out.getvalue()
        counts[warehouse] = raw_counts(data_dir)
    assert counts["postgres"] == counts["duckdb"] and counts["duckdb"][0] > 10, counts
    assert not (tmp_path / "postgres" / "strava.duckdb").exists()


def test_a_reloaded_activity_replaces_its_points_on_postgres(tmp_path, on_postgres):
    """dlt's delete-insert merge on activity_id: loading an activity's streams again replaces them as a whole."""
    import pyarrow as pa

    from strava_pipeline.source import strava

    pipeline = warehouses.make_pipeline(tmp_path)
    points = lambda n: pa.table({"activity_id": [7] * n, "athlete_id": [1] * n, "point_index": list(range(n))})  # noqa: E731
    pipeline.run(strava(tables={}, streams=[points(5)]).with_resources("activity_streams"))
    pipeline.run(strava(tables={}, streams=[points(3)]).with_resources("activity_streams"))
    with pipeline.sql_client() as sql:
        rows = sql.execute_sql(
            f"select count(*), max(point_index) from {sql.make_qualified_table_name('activity_streams')}"
        )
    assert rows[0] == (3, 2)


def test_unreachable_postgres_is_one_sentence_exit_2_and_nothing_written(tmp_path, monkeypatch):
    port = free_port()  # nothing listens there
    monkeypatch.setenv("STRAVA_WAREHOUSE", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", f"postgresql://strava:secret-pw@127.0.0.1:{port}/strava")
    for args in (("--start-date", START), ("dbt", "build"), ("export",)):
        rc, out, err = run(tmp_path, *args)
        assert rc == 2, (args, out, err)
        lines = [line for line in err.strip().splitlines() if line.strip()]
        assert len(lines) == 1 and f"PostgreSQL at 127.0.0.1:{port}/strava is unreachable" in lines[0], err
        assert "check that the server runs" in lines[0] and "Traceback" not in err
        assert "secret-pw" not in out + err
    demo = tmp_path / "demo"
    assert not (demo / "strava.duckdb").exists()
    assert not (demo / warehouses.POSTGRES_PIPELINES_SUBDIR).exists()  # no load package left half-made


def test_warehouse_switch_reads_only_known_names(monkeypatch):
    monkeypatch.setenv("STRAVA_WAREHOUSE", "Postgres")
    assert warehouses.selected() == "postgres"
    monkeypatch.setenv("STRAVA_WAREHOUSE", "")
    assert warehouses.selected() == "duckdb"
    monkeypatch.setenv("STRAVA_WAREHOUSE", "bigquery")
    with pytest.raises(warehouses.UserError, match="duckdb .*or postgres"):
        warehouses.selected()


def test_question_mark_parameters_become_psycopg2_placeholders():
    query = "update t set a = ? where b = ? and c like 'x%?' and d % 2 = 0"
    assert warehouses.qmark_to_pyformat(query) == "update t set a = %s where b = %s and c like 'x%%?' and d %% 2 = 0"


def test_dagster_keeps_its_runs_in_postgres_when_the_warehouse_is(tmp_path, on_postgres, monkeypatch):
    import dagster as dg
    from dagster_postgres import PostgresRunStorage

    from orchestration.launcher import prepare_home

    for name in ("STRAVA_PG_HOST", "STRAVA_PG_PORT", "STRAVA_PG_DATABASE", "STRAVA_PG_USER", "STRAVA_PG_PASSWORD"):
        monkeypatch.delenv(name, raising=False)  # prepare_home sets them for the processes it starts
    home = prepare_home(tmp_path / "demo")
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        key = dg.AssetKey(["marts", "fct_activities"])
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
        assert instance.get_latest_materialization_event(key) is not None
    finally:
        instance.dispose()
    monkeypatch.setenv("STRAVA_WAREHOUSE", "duckdb")  # back to the default: SQLite files in DAGSTER_HOME again
    prepare_home(tmp_path / "demo")
    assert "postgres" not in (home / "dagster.yaml").read_text()
