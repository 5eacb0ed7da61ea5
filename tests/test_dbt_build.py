"""dbt build of dbt_project/ on small raw warehouses: the build passes, every model has a primary-key test, nothing
published lies in a privacy zone, a bad zone fails the build clearly, and an archive-only warehouse builds.

The API warehouse holds two athletes: eight weeks of the demo athlete loaded by `strava.py --demo` (the project's
pipeline against the bundled fake API; the athlete lives in Ljubljana, inside the seed's privacy zone) and the
recorded athlete of ../shared/strava-reference with tracks made for the edge cases: no GPS, one point, everything
inside the zone (tests/fixtures/dbt/raw_warehouse.py). dbt runs in its own process, as a user runs it.
"""

import csv
import functools
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from strava_pipeline.cli import main as strava_main

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = PROJECT_ROOT / "dbt_project"
_spec = importlib.util.spec_from_file_location(
    "dbt_raw_warehouse", Path(__file__).parent / "fixtures" / "dbt" / "raw_warehouse.py"
)
raw_warehouse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(raw_warehouse)
SAMPLE_EXPORT = raw_warehouse.REFERENCE.parent / "files" / "sample_export.zip"


@dataclass
class DbtRun:
    returncode: int
    output: str
    results: dict  # node name -> status, from run_results.json

    @property
    def success(self) -> bool:
        return self.returncode == 0

    def failures(self) -> list:
        bad = [
            f"{name}: {status}"
            for name, status in self.results.items()
            if status in ("error", "fail", "runtime error", "skipped")
        ]
        return bad or ([self.output[-3000:]] if not self.success else [])


def dbt(args: list, data_dir: Path, work: Path, project_dir: Path = DBT_DIR) -> DbtRun:
    """`dbt <args>` against <data_dir>/strava.duckdb; its target/ and logs/ go to `work`, not into the repository."""
    env = {**os.environ, "STRAVA_DATA_DIR": str(data_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbt.cli.main",
            *args,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    results_file = work / "target" / "run_results.json"
    results = {}
    if results_file.exists():
        for r in json.loads(results_file.read_text())["results"]:
            parts = r["unique_id"].split(".")
            results[parts[-1] if parts[0] == "unit_test" else parts[2]] = r["status"]
    return DbtRun(run.returncode, run.stdout + run.stderr, results)


def query(data_dir: Path, sql: str) -> list:
    with duckdb.connect(str(data_dir / "strava.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def raw_tables(data_dir: Path) -> dict:
    """Row count of every table in the raw schema."""
    tables = query(data_dir, "select table_name from information_schema.tables where table_schema = 'strava'")
    return {t: query(data_dir, f'select count(*) from strava.strava."{t}"')[0][0] for (t,) in tables}


def haversine_m(lat1, lng1, lat2, lng2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(a))


@functools.lru_cache(maxsize=1)
def seed_zones() -> tuple:
    # every zone, whatever athlete it names (athlete_id): checking each against all tracks is the stricter test
    with open(DBT_DIR / "seeds" / "privacy_zones.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return tuple((r["name"], float(r["lat"]), float(r["lon"]), float(r["radius_m"])) for r in rows)


def zones_containing(lat: float, lng: float) -> list:
    return [name for name, zlat, zlon, r in seed_zones() if haversine_m(lat, lng, zlat, zlon) < r]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The API warehouse built once by dbt: (data_dir, work dir, dbt run, raw tables before the build)."""
    base = tmp_path_factory.mktemp("dbt_api")
    start = (datetime.now(UTC) - timedelta(days=56)).strftime("%Y-%m-%d")
    assert strava_main(["--demo", "--data-dir", str(base), "--start-date", start, "--import-only"]) == 0
    data_dir = base / "demo"
    raw_warehouse.build(data_dir)
    before = raw_tables(data_dir)
    work = tmp_path_factory.mktemp("dbt_work")
    yield data_dir, work, dbt(["build"], data_dir, work), before


def test_build_passes_and_leaves_the_raw_schema_alone(built):
    data_dir, _, result, before = built
    assert result.success, result.failures()
    assert not result.failures()
    assert "masking_cuts_zones_out_and_drops_tracks_with_nothing_left" in result.results  # unit tests ran
    assert raw_tables(data_dir) == before
    assert query(data_dir, "select count(*) from strava.marts.fct_activities") == query(
        data_dir, "select count(*) from strava.strava.activities where not coalesce(deleted, false)"
    )
    athletes = query(data_dir, "select count(distinct athlete_id) from strava.marts.weekly_summary")
    assert athletes == [(2,)]
    # the demo import fetched everything it listed
    demo = query(
        data_dir,
        "select fetch_kind, pending_count from strava.marts.import_progress "
        f"where athlete_id <> {raw_warehouse.summaries(1)[0]['athlete']['id']} order by 1",
    )
    assert demo == [("detail", 0), ("streams", 0)]


def test_every_model_has_a_primary_key_test_and_states_its_grain(built):
    _, work, _, _ = built
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    tests_by_column: dict = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata") and node.get("column_name"):
            key = (node["attached_node"], node["column_name"])
            tests_by_column.setdefault(key, set()).add(node["test_metadata"]["name"])
    models = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    assert len(models) >= 20
    without_pk = [
        uid
        for uid in models
        if not any({"unique", "not_null"} <= tests for (model, _), tests in tests_by_column.items() if model == uid)
    ]
    assert not without_pk, f"no unique + not_null on one column: {without_pk}"
    without_grain = [uid for uid, n in models.items() if "one row per" not in n["description"].lower()]
    assert not without_grain, f"description does not state the grain: {without_grain}"


def test_nothing_published_lies_inside_a_privacy_zone(built):
    data_dir = built[0]
    assert seed_zones(), "seeds/privacy_zones.csv has no zone"
    # the masking had work to do: both athletes' raw tracks start and end in the zone
    raw = query(data_dir, "select athlete_id, lat, lng from strava.strava.activity_streams where lat is not null")
    assert len({a for a, lat, lng in raw if zones_containing(lat, lng)}) == 2

    routes = query(
        data_dir, "select activity_id, route_geojson, touches_privacy_zone from strava.marts.activity_routes_masked"
    )
    assert len(routes) > 40 and any(touches for _, _, touches in routes)
    vertices = 0
    for activity_id, geojson, _ in routes:
        geometry = json.loads(geojson)
        assert geometry["type"] == "MultiLineString"
        for line in geometry["coordinates"]:
            for lng, lat in line:
                vertices += 1
                assert not zones_containing(lat, lng), f"activity {activity_id}: vertex ({lat}, {lng}) in a zone"
    assert vertices > 1000
    streams = query(data_dir, "select lat, lng from strava.marts.activity_streams_masked where lat is not null")
    assert streams and not [p for p in streams if zones_containing(*p)]
    for row in query(
        data_dir,
        "select start_lat_masked, start_lng_masked, end_lat_masked, end_lng_masked from strava.marts.fct_activities",
    ):
        for lat, lng in (row[:2], row[2:]):
            assert lat is None or not zones_containing(lat, lng)
    # no mart has a column for a raw position or polyline
    columns = {
        c for (c,) in query(data_dir, "select column_name from information_schema.columns where table_schema = 'marts'")
    }
    assert not columns & {"summary_polyline", "full_polyline", "polyline", "start_lat", "start_latlng", "end_latlng"}


def test_no_gps_one_point_or_all_inside_gives_no_route_and_no_error(built):
    data_dir = built[0]
    routes = {a for (a,) in query(data_dir, "select activity_id from strava.marts.activity_routes_masked")}
    gps_points = dict(query(data_dir, "select activity_id, count(lat) from strava.strava.activity_streams group by 1"))
    no_gps = {a for a, n in gps_points.items() if n == 0}
    one_point = {a for a, n in gps_points.items() if n == 1}
    _, zone_lat, zone_lon, _ = seed_zones()[0]
    all_inside = {
        a
        for (a,) in query(
            data_dir,
            f"""
        select activity_id from strava.strava.activity_streams where lat is not null group by 1
        having count(*) > 1 and max(abs(lat - {zone_lat})) < 0.002 and max(abs(lng - {zone_lon})) < 0.003""",
        )
    }
    assert no_gps and one_point and all_inside
    assert not routes & (no_gps | one_point | all_inside)
    activities = {a for (a,) in query(data_dir, "select activity_id from strava.marts.fct_activities")}
    assert no_gps | one_point | all_inside <= activities


def test_docs_generate_offline(built):
    data_dir, work, _, _ = built
    result = dbt(["docs", "generate"], data_dir, work)
    assert result.success, result.output[-3000:]
    catalog = json.loads((work / "target" / "catalog.json").read_text())
    assert "model.strava.weekly_summary" in catalog["nodes"]
    assert (work / "target" / "index.html").stat().st_size > 100_000


def test_bad_privacy_zone_fails_the_build_with_a_clear_test(built, tmp_path):
    data_dir = built[0]
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (project / "seeds" / "privacy_zones.csv").write_text("name,lat,lon,radius_m\nhome,123,14.5058,400\n")
    (tmp_path / "data").mkdir()
    shutil.copy(data_dir / "strava.duckdb", tmp_path / "data" / "strava.duckdb")
    # the zones and everything downstream of them (the staging views are in the copied warehouse already)
    result = dbt(["build", "--select", "privacy_zones+"], tmp_path / "data", tmp_path / "work", project_dir=project)
    assert not result.success
    assert [name for name, status in result.results.items() if status == "fail"] == [
        "privacy_zones_lat_is_a_latitude_between_-90_and_90"
    ]
    assert "Failure in test privacy_zones_lat_is_a_latitude_between_-90_and_90" in result.output
    skipped = {name for name, status in result.results.items() if status == "skipped"}
    assert {
        "int_privacy_zones",
        "int_activity_tracks__masked",
        "activity_routes_masked",
        "activity_streams_masked",
        "fct_activities",
    } <= skipped


def test_archive_only_warehouse_builds(tmp_path):
    """The project's import-archive on the sample export, reduced to its two tables (activities, activity_streams):
    no athlete id, time zone, detail, profile or work queue, and every other staging model selects nothing."""
    data_dir = tmp_path / "data"
    assert strava_main(["--data-dir", str(data_dir), "import-archive", "--import-only", str(SAMPLE_EXPORT)]) == 0
    with duckdb.connect(str(data_dir / "strava.duckdb")) as con:
        con.execute("drop table if exists strava.strava.fetch_log")
    assert {t for t in raw_tables(data_dir) if not t.startswith("_dlt")} == {"activities", "activity_streams"}
    result = dbt(["build"], data_dir, tmp_path / "work")
    assert result.success, result.failures()
    counts = query(data_dir, "select count(*), count(*) filter (where athlete_id = 0) from strava.marts.fct_activities")
    assert counts == query(data_dir, "select count(*), count(*) from strava.strava.activities")
    assert query(data_dir, "select count(*) > 0 from strava.marts.activity_routes_masked") == [(True,)]
    assert query(data_dir, "select count(*) from strava.marts.personal_bests where record_kind = 'best_effort'") == [
        (0,)
    ]
    # like the work queue, only activities the API listed are remaining work: an archive is never fetched again
    assert query(data_dir, "select count(*) from strava.marts.import_progress") == [(0,)]
