"""Privacy zones per athlete: a zone with an athlete_id masks that athlete's activities only, one without masks
everybody's, an activity of unknown athlete is masked by every zone; in the dbt masking on DuckDB and on PostgreSQL
(skipped with one line where a throwaway server cannot start), in the singular test
assert_no_point_inside_privacy_zone and in the Python guard of the maps (strava_pipeline/maps/privacy.py). The seed
file of four columns from before keeps masking everybody, and a warehouse can go back and forth between the two.

The dbt side runs on a small raw warehouse written here: athletes A and B each cross A's home zone and the shared
zone on a straight line; an activity of unknown athlete crosses A's home too. The privacy test must fail on a
masked table that got the athlete wrong and on a masking whose rule ignores the athlete one way or the other.
"""

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest
import shapely

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = PROJECT_ROOT / "dbt_project"

ATHLETE_A, ATHLETE_B = 1001, 2002
A_HOME = ("a_home", 46.0569, 14.5058, 400.0)  # lat, lon, radius_m: masks athlete A only
SHARED = ("club", 46.0700, 14.5058, 300.0)  # no athlete: masks everybody
ZONES_CSV = (
    "name,lat,lon,radius_m,athlete_id\n"
    f"{A_HOME[0]},{A_HOME[1]},{A_HOME[2]},{A_HOME[3]:.0f},{ATHLETE_A}\n"
    f"{SHARED[0]},{SHARED[1]},{SHARED[2]},{SHARED[3]:.0f},\n"
)
# activity id -> athlete (None: the archive import's unknown athlete)
ACTIVITIES = {11: ATHLETE_A, 22: ATHLETE_B, 33: None}
M_PER_DEG = 111_320.0


def haversine_m(lat1, lng1, lat2, lng2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lng2, lng1)) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(a))


def track(offset_east_m: float, n: int = 240) -> list:
    """A straight line due north through both zone centres (from 1.5 km south of A's home to 1 km north of the
    shared zone), offset_east_m to the east: [lat, lng] pairs about 13 m apart."""
    lat = np.linspace(A_HOME[1] - 1500 / M_PER_DEG, SHARED[1] + 1000 / M_PER_DEG, n)
    lng = A_HOME[2] + offset_east_m / (M_PER_DEG * math.cos(math.radians(A_HOME[1])))
    return [(float(la), float(lng)) for la in lat]


TRACKS = {11: track(0.0), 22: track(20.0), 33: track(-20.0)}


def write_raw_duckdb(path: Path) -> None:
    """The two raw tables dbt needs (strava.activities, strava.activity_streams), shaped like dlt's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        for sql in raw_sql("strava.strava"):
            con.execute(sql)


def raw_sql(schema: str) -> list:
    """create + insert statements for the raw tables in `schema`, in SQL both DuckDB and PostgreSQL take."""
    stmts = [
        f"create schema if not exists {schema}",
        f"create table {schema}.activities (id bigint, athlete__id bigint, name varchar, sport_type varchar, "
        "type varchar, start_date timestamp with time zone, start_date_local varchar, timezone varchar, "
        "distance double precision, moving_time bigint, elapsed_time bigint)",
        f"create table {schema}.activity_streams (athlete_id bigint, activity_id bigint, point_index integer, "
        "time integer, distance double precision, lat double precision, lng double precision)",
    ]
    for i, (activity_id, athlete) in enumerate(ACTIVITIES.items()):
        athlete_sql = "null" if athlete is None else str(athlete)
        stmts.append(
            f"insert into {schema}.activities values ({activity_id}, {athlete_sql}, 'Run {activity_id}', 'Run', "
            f"'Run', '2025-06-0{i + 1} 06:00:00+00', '2025-06-0{i + 1}T08:00:00Z', '(GMT+01:00) Europe/Ljubljana', "
            "3200.0, 1000, 1000)"
        )
        rows = ", ".join(
            f"({athlete_sql}, {activity_id}, {k}, {4 * k}, {13.0 * k}, {lat:.7f}, {lng:.7f})"
            for k, (lat, lng) in enumerate(TRACKS[activity_id])
        )
        stmts.append(f"insert into {schema}.activity_streams values {rows}")
    return stmts


def project_copy(folder: Path, zones_csv: str = ZONES_CSV) -> Path:
    project = folder / "dbt_project"
    shutil.copytree(DBT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (project / "seeds" / "privacy_zones.csv").write_text(zones_csv)
    return project


# what the zones reach: the masked marts and the test that checks them
SELECTION = [
    "--select",
    "+assert_no_point_inside_privacy_zone",
    "int_privacy_zones",
    "--indirect-selection",
    "cautious",
]
# the same from the zones on: what a changed zone file or masking rule rebuilds
MASKED = [
    "--select",
    "privacy_zones",
    "int_privacy_zones",
    "int_activity_tracks__masked",
    "activity_routes_masked",
    "activity_streams_masked",
    "fct_activities",
    "assert_no_point_inside_privacy_zone",
    "--exclude",
    "resource_type:unit_test",
    "--indirect-selection",
    "cautious",
]


def dbt(args: list, data_dir: Path, work: Path, project: Path, env: dict | None = None) -> tuple:
    """`dbt <args>` in its own process on <data_dir>/strava.duckdb (or the postgres target of env): (returncode,
    output, {node name: status})."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbt.cli.main",
            *args,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],  # fmt: skip
        cwd=PROJECT_ROOT,
        env={**os.environ, "STRAVA_DATA_DIR": str(data_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = {}
    results_file = work / "target" / "run_results.json"
    if results_file.exists():
        results = {r["unique_id"].split(".")[2]: r["status"] for r in json.loads(results_file.read_text())["results"]}
        results_file.unlink()
    return run.returncode, run.stdout + run.stderr, results


def routes_of(con) -> dict:
    """activity_id -> (athlete_id, shapely route) of marts.activity_routes_masked."""
    rows = con.execute("select activity_id, athlete_id, route_wkt from marts.activity_routes_masked").fetchall()
    return {a: (athlete, shapely.from_wkt(wkt)) for a, athlete, wkt in rows}


def closest_m(geometry, zone) -> float:
    """Distance in metres from a zone centre to a route (vertices and segments), in a flat frame around the zone:
    good to centimetres over the few km of these tracks."""
    kx = M_PER_DEG * math.cos(math.radians(zone[1]))
    local = shapely.transform(geometry, lambda c: (c - [zone[2], zone[1]]) * [kx, M_PER_DEG])
    return float(shapely.distance(local, shapely.Point(0, 0)))


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    """The raw warehouse built by dbt with the two-athlete zones: (data_dir, project, work)."""
    base = tmp_path_factory.mktemp("zones_duckdb")
    data_dir, work = base / "data", base / "work"
    write_raw_duckdb(data_dir / "strava.duckdb")
    project = project_copy(base)
    rc, out, results = dbt(["build", *SELECTION], data_dir, work, project)
    assert rc == 0, out[-4000:]
    assert results["assert_no_point_inside_privacy_zone"] == "pass"
    return data_dir, project, work


def test_a_zone_masks_its_athlete_only_and_a_zone_without_athlete_masks_everybody(duck):
    data_dir = duck[0]
    with duckdb.connect(str(data_dir / "strava.duckdb"), read_only=True) as con:
        routes = routes_of(con)
        assert {a: athlete for a, (athlete, _) in routes.items()} == {11: ATHLETE_A, 22: ATHLETE_B, 33: 0}
        # A's own zone is cut out of A's track, not out of B's, which passes 20 m from its centre
        assert closest_m(routes[11][1], A_HOME) > A_HOME[3] + 20
        assert closest_m(routes[22][1], A_HOME) < 40
        # the unknown athlete's track is masked by every zone
        assert closest_m(routes[33][1], A_HOME) > A_HOME[3] + 20
        # the shared zone masks everybody
        for activity_id in ACTIVITIES:
            assert closest_m(routes[activity_id][1], SHARED) > SHARED[3] + 20, activity_id
        # the same rule for the stream points and the start point (all start 1.5 km south: outside)
        points = con.execute(
            "select activity_id, lat, lng from marts.activity_streams_masked where lat is not null"
        ).fetchall()
        near_home = {a for a, lat, lng in points if haversine_m(lat, lng, A_HOME[1], A_HOME[2]) < A_HOME[3]}
        near_shared = {a for a, lat, lng in points if haversine_m(lat, lng, SHARED[1], SHARED[2]) < SHARED[3]}
        assert near_home == {22} and near_shared == set()
        zones = con.execute(
            "select zone_key, athlete_id from intermediate.int_privacy_zones order by zone_key"
        ).fetchall()
        assert zones == [("a_home@1001", ATHLETE_A), ("club", None)]


def copy_of(duck, folder: Path) -> Path:
    """A copy of the built warehouse's data dir, to change without touching the module's."""
    data_dir = folder / "data"
    data_dir.mkdir()
    shutil.copy(duck[0] / "strava.duckdb", data_dir / "strava.duckdb")
    return data_dir


def failing_rows(data_dir: Path, work: Path) -> set:
    """(activity_id, athlete_id, zone_name) of the rows the privacy test finds in <data_dir>/strava.duckdb: its SQL
    as dbt compiled it into <work>/target (the project turns store_failures off)."""
    sql = next((work / "target" / "compiled").rglob("assert_no_point_inside_privacy_zone.sql")).read_text()
    spec = importlib.util.spec_from_file_location("strava_duckdb_plugin", DBT_DIR / "plugins" / "strava_duckdb.py")
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    with duckdb.connect(str(data_dir / "strava.duckdb"), read_only=True) as con:
        con.execute(f"load '{plugin.spatial_extension_path()}'")
        return set(con.execute(f"select distinct activity_id, athlete_id, zone_name from ({sql})").fetchall())


def test_the_privacy_test_checks_each_route_against_the_zones_of_its_athlete(duck, tmp_path):
    """A published table masked wrongly: A's route and B's unmasked, A's labelled as B's. The test (its SQL as dbt
    compiled it for the module's build, run on a copy) reports A's route in A's zone (the athlete comes from
    staging, not from the label) and both in the shared zone, never B's route in A's zone."""
    data_dir = copy_of(duck, tmp_path)
    assert failing_rows(data_dir, duck[2]) == set()
    raw = {a: shapely.LineString([(lng, lat) for lat, lng in TRACKS[a]]) for a in (11, 22)}
    with duckdb.connect(str(data_dir / "strava.duckdb")) as con:
        for activity_id, line in raw.items():
            wkt = shapely.to_wkt(shapely.MultiLineString([line]), rounding_precision=-1)
            con.execute(
                "update marts.activity_routes_masked set route_wkt = ?, route_geojson = ?, "
                "route_geom = ?::geometry, athlete_id = ? where activity_id = ?",
                [wkt, shapely.to_geojson(line), wkt, ATHLETE_B, activity_id],
            )
    assert failing_rows(data_dir, duck[2]) == {
        (11, ATHLETE_A, "a_home"),
        (11, ATHLETE_A, "club"),
        (22, ATHLETE_B, "club"),
    }


# the masking's rule with the athlete ignored one way or the other (dbt_project/macros/geo.sql)
RULE = """(({{ zone_athlete_id }}) is null or coalesce({{ track_athlete_id }}, 0) = 0
     or ({{ zone_athlete_id }}) = ({{ track_athlete_id }}))"""
WRONG_RULES = {
    # zones of an athlete mask nobody: A's home shows on A's track and on the unknown athlete's
    "named zones ignored": ("({{ zone_athlete_id }}) is null", {(11, "a_home"), (33, "a_home")}),
    # a zone must name the athlete: the shared zone masks nobody, A's home no unknown athlete's
    "athlete required": (
        "({{ zone_athlete_id }}) = ({{ track_athlete_id }})",
        {(11, "club"), (22, "club"), (33, "club"), (33, "a_home")},
    ),
}


@pytest.mark.parametrize("name", WRONG_RULES)
def test_the_privacy_test_fails_a_masking_that_gets_the_athlete_wrong(duck, tmp_path, name):
    rule, expected = WRONG_RULES[name]
    data_dir = copy_of(duck, tmp_path)
    project = tmp_path / "dbt_project"
    shutil.copytree(duck[1], project)
    geo = project / "macros" / "geo.sql"
    assert RULE in geo.read_text(), "the rule in geo.sql changed: update RULE"
    geo.write_text(geo.read_text().replace(RULE, rule))
    rc, out, results = dbt(["build", *MASKED], data_dir, tmp_path / "work", project)
    assert rc != 0 and results["assert_no_point_inside_privacy_zone"] == "fail", out[-3000:]
    assert {(a, zone) for a, _, zone in failing_rows(data_dir, tmp_path / "work")} == expected


def test_a_seed_file_without_athlete_id_masks_everybody_and_the_column_can_come_back(duck, tmp_path):
    """The four columns of before: both zones mask every athlete, B's track loses A's home too. Then the file with
    the column again, on the same warehouse (the seed table of four columns is made again): B's track is whole."""
    data_dir = copy_of(duck, tmp_path)
    old_csv = "".join(line.rsplit(",", 1)[0] + "\n" for line in ZONES_CSV.splitlines())
    assert old_csv.startswith("name,lat,lon,radius_m\n")
    project = project_copy(tmp_path, old_csv)
    rc, out, results = dbt(["build", *MASKED], data_dir, tmp_path / "work", project)
    assert rc == 0 and results["assert_no_point_inside_privacy_zone"] == "pass", out[-3000:]
    with duckdb.connect(str(data_dir / "strava.duckdb"), read_only=True) as con:
        zones = con.execute("select zone_key, athlete_id from intermediate.int_privacy_zones order by 1").fetchall()
        assert zones == [("a_home", None), ("club", None)]
        routes = routes_of(con)
    for activity_id in ACTIVITIES:
        assert closest_m(routes[activity_id][1], A_HOME) > A_HOME[3] + 20, activity_id

    (project / "seeds" / "privacy_zones.csv").write_text(ZONES_CSV)
    rc, out, results = dbt(["build", *MASKED], data_dir, tmp_path / "work", project)
    assert rc == 0 and results["assert_no_point_inside_privacy_zone"] == "pass", out[-3000:]
    with duckdb.connect(str(data_dir / "strava.duckdb"), read_only=True) as con:
        zones = con.execute("select zone_key, athlete_id from intermediate.int_privacy_zones order by 1").fetchall()
        assert zones == [("a_home@1001", ATHLETE_A), ("club", None)]
        assert closest_m(routes_of(con)[22][1], A_HOME) < 40


# ------------------------------------------------------------------------------------------ the maps' guard


def test_the_guard_lets_a_zone_guard_its_athlete_and_a_zone_without_athlete_everybody():
    from strava_pipeline.maps.privacy import check_outside_zones, violations
    from strava_pipeline.maps.routes import Zone

    a_home = Zone(A_HOME[0], A_HOME[1], A_HOME[2], A_HOME[3], ATHLETE_A)
    club = Zone(SHARED[0], SHARED[1], SHARED[2], SHARED[3])
    through_home = shapely.MultiLineString([[(lng, lat) for lat, lng in TRACKS[22]][:120]])  # stops before the club
    assert closest_m(through_home, A_HOME) < 25 and closest_m(through_home, SHARED) > 900
    assert violations([through_home], [a_home], athletes=[ATHLETE_B]) == []
    # A, unknown athletes, no athletes given, or not one per route: every zone guards the route
    for athletes in ([ATHLETE_A], [None], [0], None, [ATHLETE_B, ATHLETE_B]):
        assert [v.zone for v in violations([through_home], [a_home], athletes=athletes)] == ["a_home"], athletes
    # one route per athlete: only A's is reported, with its own index
    found = violations([through_home, through_home], [a_home, club], athletes=[ATHLETE_B, ATHLETE_A])
    assert [(v.zone, v.route_index) for v in found] == [("a_home", 1)]
    whole = shapely.MultiLineString([[(lng, lat) for lat, lng in TRACKS[22]]])
    assert [v.zone for v in violations([whole], [a_home, club], athletes=[ATHLETE_B])] == ["club"]
    check_outside_zones([through_home], [22], [a_home], [a_home], athletes=[ATHLETE_B])
    with pytest.raises(RuntimeError, match="activity 11, .* privacy zone 'a_home' of the warehouse"):
        check_outside_zones([through_home], [11], [a_home], [], athletes=[ATHLETE_A])


def test_zones_are_read_with_their_athlete_from_both_seed_files_and_the_warehouse(tmp_path):
    from strava_pipeline.maps.routes import RouteSource, Zone, csv_zones
    from strava_pipeline.maps.synthetic import write_warehouse

    new = tmp_path / "new.csv"
    new.write_text(ZONES_CSV + "cafe,46.1,14.4,150,not a number\n")
    assert csv_zones(new) == [
        Zone("a_home", A_HOME[1], A_HOME[2], A_HOME[3], ATHLETE_A),
        Zone("club", SHARED[1], SHARED[2], SHARED[3], None),
        Zone("cafe", 46.1, 14.4, 150.0, None),  # an athlete_id dbt would reject: the zone guards everybody
    ]
    old = tmp_path / "old.csv"
    old.write_text("name,lat,lon,radius_m\nhome,46.0569,14.5058,400\n")
    assert csv_zones(old) == [Zone("home", 46.0569, 14.5058, 400.0, None)]

    zones = [Zone("a_home", A_HOME[1], A_HOME[2], A_HOME[3], ATHLETE_A), Zone("club", SHARED[1], SHARED[2], 300.0)]
    path = write_warehouse(tmp_path / "data" / "strava.duckdb", [], zones)
    with duckdb.connect(str(path), read_only=True) as con:
        assert RouteSource(con, path).warehouse_zones() == zones
    with duckdb.connect(str(path)) as con:  # a seeds table of the four columns before athlete_id
        con.execute("alter table seeds.privacy_zones drop column athlete_id")
    with duckdb.connect(str(path), read_only=True) as con:
        assert [z.athlete_id for z in RouteSource(con, path).warehouse_zones()] == [None, None]


@pytest.fixture
def two_athletes(tmp_path, monkeypatch):
    """A synthetic warehouse (routes masked like dbt masks them) of athletes 1 and 2 around Ljubljana: home is
    athlete 1's zone, work everybody's; the seed file says the same. Returns (data dir, routes)."""
    from strava_pipeline.maps import settings
    from strava_pipeline.maps.routes import Zone
    from strava_pipeline.maps.synthetic import DEFAULT_ZONES, generate_routes, write_warehouse

    home, work = DEFAULT_ZONES
    zones = (Zone(home.name, home.lat, home.lon, home.radius_m, 1), work)
    seed = tmp_path / "privacy_zones.csv"
    seed.write_text(
        "name,lat,lon,radius_m,athlete_id\n"
        + "".join(f"{z.name},{z.lat},{z.lon},{z.radius_m},{z.athlete_id or ''}\n" for z in zones)
    )
    monkeypatch.setattr(settings, "ZONES_CSV", seed)
    routes = generate_routes(12, seed=5, zones=zones, length_km=(3.0, 8.0), athlete_id=1) + generate_routes(
        12, seed=6, zones=zones, length_km=(3.0, 8.0), first_id=20_000_000_000, athlete_id=2
    )
    data = tmp_path / "data"
    write_warehouse(data / "strava.duckdb", routes, zones)
    return data, routes


def test_maps_publish_routes_of_other_athletes_through_a_zone_and_stop_a_leak(two_athletes):
    from strava_pipeline.maps import settings
    from strava_pipeline.maps.export import export_routes
    from strava_pipeline.maps.synthetic import DEFAULT_ZONES, Route, insert_routes
    from strava_pipeline.maps.tiles import update_tiles

    data, routes = two_athletes
    home = DEFAULT_ZONES[0]
    zone = ("home", home.lat, home.lon)
    # not vacuous: athlete 2 starts at home, athlete 1's routes keep out of it
    assert min(closest_m(r.geometry, zone) for r in routes if r.athlete_id == 2) < 50
    assert min(closest_m(r.geometry, zone) for r in routes if r.athlete_id == 1) > home.radius_m
    for fmt in settings.FORMATS:
        assert export_routes(data, fmt).routes == len(routes)
    assert update_tiles(data, max_zoom=11).mode == "full"

    line = shapely.MultiLineString([[(home.lon - 0.01, home.lat), (home.lon + 0.01, home.lat)]])  # through home
    with duckdb.connect(str(data / "strava.duckdb")) as con:
        insert_routes(con, [Route(7, "Passing by", "Run", date(2024, 3, 3), 2.0, line, athlete_id=2)])
    assert export_routes(data, "geojson").routes == len(routes) + 1
    assert update_tiles(data, max_zoom=11).mode == "incremental"
    with duckdb.connect(str(data / "strava.duckdb")) as con:
        insert_routes(con, [Route(8, "Leak", "Run", date(2024, 3, 4), 2.0, line, athlete_id=1)])
    with pytest.raises(RuntimeError, match="activity 8, .* privacy zone 'home' of the warehouse"):
        export_routes(data, "topojson")
    with pytest.raises(RuntimeError, match="activity 8, .* privacy zone 'home'"):
        update_tiles(data, max_zoom=11)


def test_a_routes_mart_without_athlete_id_is_guarded_by_every_zone(two_athletes):
    """A mart built before the column: nothing says whose a route is, so every zone guards it (the guard errs on the
    safe side and points at the masking)."""
    from strava_pipeline.maps.export import export_routes

    data, routes = two_athletes
    with duckdb.connect(str(data / "strava.duckdb")) as con:
        con.execute("alter table marts.activity_routes_masked drop column athlete_id")
    with pytest.raises(RuntimeError, match="privacy zone 'home' of the warehouse"):
        export_routes(data, "geojson")


# ------------------------------------------------------------------------------------------------ PostgreSQL


def test_postgres_masks_per_athlete_like_duckdb(duck, tmp_path):
    """The same raw rows and zones in a throwaway PostgreSQL + PostGIS: the same routes per athlete, the same
    stream points kept, the privacy test passing (skipped with one line where the server cannot start)."""
    from tests.support.postgres import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer()
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL + PostGIS here: {exc}")
    try:
        server.create_database("zones")
        server.psql(None, stdin=";\n".join(raw_sql("strava")) + ";\n", database="zones")
        env = {
            "STRAVA_WAREHOUSE": "postgres",
            "STRAVA_PG_HOST": "127.0.0.1",
            "STRAVA_PG_PORT": str(server.port),
            "STRAVA_PG_DATABASE": "zones",
            "STRAVA_PG_USER": "postgres",
        }
        rc, out, results = dbt(["build", *SELECTION], tmp_path, tmp_path / "work", duck[1], env)
        assert rc == 0 and results["assert_no_point_inside_privacy_zone"] == "pass", out[-4000:]
        rows = server.psql(
            "select activity_id, athlete_id, st_astext(route_geom) from marts.activity_routes_masked",
            tuples=True,
            database="zones",
        )
        on_pg = {
            int(a): (int(athlete), shapely.from_wkt(wkt))
            for a, athlete, wkt in (r.split("|") for r in rows.splitlines())
        }
        kept_pg = server.psql(
            "select activity_id, count(*) from marts.activity_streams_masked group by 1 order by 1",
            tuples=True,
            database="zones",
        )
    finally:
        server.stop()
    with duckdb.connect(str(duck[0] / "strava.duckdb"), read_only=True) as con:
        on_duck = routes_of(con)
        kept_duck = con.execute("select activity_id, count(*) from marts.activity_streams_masked group by 1 order by 1")
        kept_duck = "\n".join(f"{a}|{n}" for a, n in kept_duck.fetchall())
    assert kept_pg == kept_duck
    assert sorted(on_pg) == sorted(on_duck)
    for activity_id, (athlete, route) in on_pg.items():
        assert athlete == on_duck[activity_id][0]
        for zone in (A_HOME, SHARED):  # the cut ends agree within the 5 m snap
            assert closest_m(route, zone) == pytest.approx(closest_m(on_duck[activity_id][1], zone), abs=5.0)
