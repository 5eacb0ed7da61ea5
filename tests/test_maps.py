"""Maps: TopoJSON/GeoJSON/GPX exports, the privacy guard, the incremental heatmap tiles and the CLI's errors.

The warehouse here is generated (strava_pipeline.maps.synthetic): the tables the maps read, shaped like the dbt
marts, with routes masked the way int_activity_tracks__masked masks them."""

import io
import json
import math
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import gpxpy
import numpy as np
import pytest
import shapely
import topojson

from strava_pipeline.cli import main
from strava_pipeline.maps import settings
from strava_pipeline.maps.export import export_routes
from strava_pipeline.maps.privacy import haversine_m, violations
from strava_pipeline.maps.routes import join_parts
from strava_pipeline.maps.synthetic import (
    DEFAULT_ZONES,
    Route,
    delete_routes,
    generate_routes,
    insert_routes,
    shifted,
    write_warehouse,
)
from strava_pipeline.maps.tiles import update_tiles

# a cell of the TopoJSON grid moves a vertex by at most half its diagonal
TOLERANCE_M = settings.QUANTUM_M * math.sqrt(2) / 2 + 0.01
# an out-and-back spur far from the zones: topojson.Topology's quantizer would drop its turnaround (14.57)
SPUR = Route(
    99,
    "Out and back",
    "Run",
    date(2024, 2, 2),
    3.1,
    shapely.MultiLineString([[(14.55, 46.08), (14.56, 46.08), (14.57, 46.08), (14.56, 46.08), (14.56, 46.09)]]),
)


@pytest.fixture(autouse=True)
def seed_zones(tmp_path, monkeypatch):
    """The privacy zones of the generated routes stand in for dbt_project/seeds/privacy_zones.csv."""
    path = tmp_path / "privacy_zones.csv"
    path.write_text(
        "name,lat,lon,radius_m\n" + "".join(f"{z.name},{z.lat},{z.lon},{z.radius_m}\n" for z in DEFAULT_ZONES)
    )
    monkeypatch.setattr(settings, "ZONES_CSV", path)
    return path


@pytest.fixture(scope="module")
def routes():
    return generate_routes(60, seed=11, length_km=(3.0, 30.0)) + [SPUR]


@pytest.fixture(scope="module")
def warehouse(routes, tmp_path_factory):
    return write_warehouse(tmp_path_factory.mktemp("warehouse") / "strava.duckdb", routes)


@pytest.fixture
def data_dir(tmp_path, warehouse):
    (tmp_path / "data").mkdir()
    shutil.copy(warehouse, tmp_path / "data" / "strava.duckdb")
    return tmp_path / "data"


def cli(data_dir: Path, *args: str):
    out, err = io.StringIO(), io.StringIO()
    rc = main(["--data-dir", str(data_dir), *args], out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


def metres(geometry, lat0: float):
    k = np.array([111_320.0 * math.cos(math.radians(lat0)), 111_132.0])
    return shapely.transform(geometry, lambda c: c * k)


def all_vertices(path: Path, fmt: str) -> np.ndarray:
    """(lng, lat) of every vertex in an exported file, decoded by independent readers."""
    if fmt == "gpx":
        gpx = gpxpy.parse(path.read_text())
        return np.array([(p.longitude, p.latitude) for t in gpx.tracks for s in t.segments for p in s.points])
    if fmt == "topojson":
        features = json.loads(topojson.Topology(json.loads(path.read_text()), object_name="routes").to_geojson())
    else:
        features = json.loads(path.read_text())
    return np.concatenate(
        [shapely.get_coordinates(shapely.geometry.shape(f["geometry"])) for f in features["features"]]
    )


# -------------------------------------------------------------------------------------------------- exports


def test_topojson_round_trip_within_the_quantization_tolerance(data_dir, routes):
    rc, out, err = cli(data_dir, "export", "--format", "topojson")
    assert rc == 0, err
    path = data_dir / "exports" / "routes.topojson"
    assert f"Wrote {len(routes)} masked routes" in out and "routes.topojson" in out
    doc = json.loads(path.read_text())
    assert doc["type"] == "Topology" and set(doc["transform"]) == {"scale", "translate"}
    # the topojson library decodes it (an implementation independent of the writer)
    decoded = json.loads(topojson.Topology(doc, object_name="routes").to_geojson())["features"]
    by_id = {r.activity_id: r for r in routes}
    assert sorted(f["properties"]["id"] for f in decoded) == sorted(by_id)
    worst = 0.0
    for feature in decoded:
        p = feature["properties"]
        route = by_id[p["id"]]
        assert (p["name"], p["date"], p["sport"], p["distance_km"]) == (
            route.name,
            route.start_date_local.isoformat(),
            route.sport_type,
            round(route.distance_km, 2),
        )
        lat0 = shapely.bounds(route.geometry)[1]
        got = shapely.geometry.shape(feature["geometry"])
        worst = max(worst, shapely.hausdorff_distance(metres(got, lat0), metres(route.geometry, lat0)))
    assert 0 < worst <= TOLERANCE_M
    # the spur keeps its turnaround
    spur = next(f for f in decoded if f["properties"]["id"] == SPUR.activity_id)
    assert max(x for line in spur["geometry"]["coordinates"] for x, _ in line) == pytest.approx(14.57, abs=1e-4)


def test_topojson_is_a_quarter_of_the_geojson(data_dir):
    topo = export_routes(data_dir, "topojson")
    geo = export_routes(data_dir, "geojson")
    assert topo.routes == geo.routes and topo.points <= geo.points
    assert topo.size_bytes / geo.size_bytes <= 0.27  # the benchmark prints the figure for the demo athlete


def test_geojson_and_gpx_carry_the_masked_geometry_exactly(data_dir, routes):
    assert cli(data_dir, "export", "--format", "geojson")[0] == 0
    assert cli(data_dir, "export", "--format", "gpx")[0] == 0
    by_id = {r.activity_id: r.geometry for r in routes}
    features = json.loads((data_dir / "exports" / "routes.geojson").read_text())["features"]
    for f in features:
        # the same coordinates, the parts that continue each other joined
        assert shapely.equals(shapely.geometry.shape(f["geometry"]), by_id[f["properties"]["id"]])
    gpx = gpxpy.parse((data_dir / "exports" / "routes.gpx").read_text())
    assert len(gpx.tracks) == len(routes)
    for track in gpx.tracks:
        joined = join_parts(np.array([by_id[int(track.number)]]))[0]
        got = [[(p.longitude, p.latitude) for p in s.points] for s in track.segments]
        want = [shapely.get_coordinates(part).tolist() for part in shapely.get_parts(joined)]
        assert len(got) == len(want)
        for a, b in zip(got, want):
            assert np.allclose(a, b, atol=1e-7, rtol=0)


@pytest.mark.parametrize("fmt", ["topojson", "geojson", "gpx"])
def test_no_exported_vertex_lies_inside_a_privacy_zone(data_dir, fmt):
    assert cli(data_dir, "export", "--format", fmt)[0] == 0
    xy = all_vertices(data_dir / "exports" / f"routes.{settings.FORMATS[fmt]}", fmt)
    assert len(xy) > 1000
    for zone in DEFAULT_ZONES:
        distance = haversine_m(zone.lat, zone.lon, xy[:, 1], xy[:, 0])
        assert distance.min() >= zone.radius_m, zone.name
        if zone.name == "home":  # most routes start there: the check is not vacuous
            assert distance.min() < zone.radius_m + 100


def test_an_unmasked_route_is_never_written(data_dir):
    before = export_routes(data_dir, "geojson").path.read_bytes()
    home = DEFAULT_ZONES[0]
    leak = Route(
        7,
        "Leak",
        "Run",
        date(2024, 3, 3),
        2.0,
        shapely.MultiLineString([[(home.lon - 0.01, home.lat), (home.lon + 0.01, home.lat)]]),
    )  # straight through the home zone
    with duckdb.connect(str(data_dir / "strava.duckdb")) as con:
        insert_routes(con, [leak])
    for fmt in settings.FORMATS:
        with pytest.raises(RuntimeError, match="privacy zone 'home'"):
            export_routes(data_dir, fmt)
    # the file of the last good export is untouched, no half-written file is left
    assert (data_dir / "exports" / "routes.geojson").read_bytes() == before
    assert not list((data_dir / "exports").glob("*.tmp"))


def test_a_zone_added_to_the_seed_after_the_dbt_build_stops_the_export(data_dir, seed_zones, routes):
    lng, lat = shapely.get_coordinates(routes[0].geometry)[5]
    seed_zones.write_text(seed_zones.read_text() + f"cafe,{lat},{lng},150\n")
    rc, out, err = cli(data_dir, "export")
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and "cafe" in err and f"`uv run strava.py --data-dir {data_dir} dbt build`" in err


def test_filters_select_by_sport_day_and_visibility(data_dir, routes):
    def exported(*args):
        assert cli(data_dir, "export", "--format", "geojson", *args)[0] == 0
        doc = json.loads((data_dir / "exports" / "routes.geojson").read_text())
        return sorted(f["properties"]["id"] for f in doc["features"])

    since, until = date(2024, 2, 1), date(2024, 3, 15)
    assert exported("--sport", "run,ride") == sorted(r.activity_id for r in routes if r.sport_type in ("Run", "Ride"))
    assert exported("--sport", "RUN", "--since", str(since), "--until", str(until)) == sorted(
        r.activity_id for r in routes if r.sport_type == "Run" and since <= r.start_date_local <= until
    )
    public = exported("--public-only")
    assert public == sorted(r.activity_id for r in routes if r.visibility == "everyone")
    assert 0 < len(public) < len(routes)


# --------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "args, message",
    [
        (["export", "--format", "kml"], "argument --format: invalid choice: 'kml'"),
        (["export", "--since", "2024-02-30"], "--since 2024-02-30 is not a valid date: use YYYY-MM-DD"),
        (["export", "--until", "24-01-01"], "--until 24-01-01 is not a valid date"),
        (["export", "--since", "2024-05-01", "--until", "2024-04-01"], "--until 2024-04-01 is before --since"),
        (["export", "--sport", "Kitesurf"], "No masked route matches sport Kitesurf (sports with routes: Hike, Ride"),
        (["tiles", "--max-zoom", "25"], "--max-zoom 25 is out of range"),
        (["tiles", "--max-zoom", "x"], "argument --max-zoom: invalid int value"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(data_dir, args, message):
    rc, out, err = cli(data_dir, *args)
    assert rc == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_no_warehouse_or_no_masked_routes_yet_is_a_user_error(tmp_path, routes):
    for command in (["export"], ["tiles"], ["map"]):
        rc, out, err = cli(tmp_path / "empty", *command)
        assert rc == 2 and "No warehouse at" in err and "uv run strava.py" in err and err.count("\n") == 1
        # a failed command leaves nothing behind: no data dir, no tile inputs, no vendored Leaflet
        assert not (tmp_path / "empty").exists(), sorted((tmp_path / "empty").rglob("*"))
    # a warehouse loaded but dbt not run yet
    write_warehouse(tmp_path / "raw" / "strava.duckdb", routes, with_routes=False)
    for command in (["export", "--format", "gpx"], ["tiles"], ["map"]):
        rc, out, err = cli(tmp_path / "raw", *command)
        assert rc == 2 and err.count("\n") == 1
        assert "masked routes are not built yet" in err
        assert f"`uv run strava.py --data-dir {tmp_path / 'raw'} dbt build`" in err
    # nothing of maps/vendor, tiles/ or tile_inputs.sqlite (the writer lock's file stays, as after any run)
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == [".warehouse.lock", "strava.duckdb"]


def test_a_writer_holding_the_warehouse_makes_the_commands_wait_then_say_busy(data_dir, monkeypatch):
    from strava_pipeline import lock
    from strava_pipeline.maps import routes as routes_module

    monkeypatch.setattr(routes_module, "WAREHOUSE_LOCK_WAIT_S", 0.3)
    fd = lock.acquire(data_dir, holder="dbt build (test)")
    try:
        for command in (["export"], ["tiles"]):
            rc, out, err = cli(data_dir, *command)
            assert rc == 2 and "busy" in err and "dbt build (test)" in err and err.count("\n") == 1
    finally:
        os.close(fd)
    assert cli(data_dir, "export")[0] == 0


def test_no_routes_at_all_gives_empty_files_not_errors(tmp_path):
    data = tmp_path / "data"
    write_warehouse(data / "strava.duckdb", [])
    rc, out, err = cli(data, "export")
    assert rc == 0 and "Wrote 0 masked routes" in out
    doc = json.loads((data / "exports" / "routes.topojson").read_text())
    assert json.loads(topojson.Topology(doc, object_name="routes").to_geojson())["features"] == []
    result = update_tiles(data)
    assert (result.mode, result.activities, result.tiles_total) == ("full", 0, 0)
    assert json.loads((data / "tiles" / "tiles.json").read_text())["activities"] == 0


def test_export_leaves_the_warehouse_unlocked_for_writers(data_dir):
    export_routes(data_dir, "topojson")
    with duckdb.connect(str(data_dir / "strava.duckdb")) as con:  # a writer can open it right after
        assert con.sql("select count(*) from marts.activity_routes_masked").fetchone()[0] > 0


# ----------------------------------------------------------------------------------------------------- tiles


def tile_files(data_dir: Path) -> dict:
    root = data_dir / "tiles"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def full_build(tmp_path: Path, name: str, routes: list, **kwargs) -> dict:
    fresh = tmp_path / name
    write_warehouse(fresh / "strava.duckdb", routes)
    result = update_tiles(fresh, **kwargs)
    assert result.mode == "full"
    return tile_files(fresh)


def test_incremental_tile_updates_equal_a_full_rebuild_byte_for_byte(tmp_path, routes):
    base, extra = routes[:40], routes[40]
    data = tmp_path / "data"
    write_warehouse(data / "strava.duckdb", base)
    first = update_tiles(data)
    assert first.mode == "full" and first.tiles_total > 100
    assert update_tiles(data).mode == "unchanged"
    png = next(p for p in (data / "tiles" / "16").rglob("*.png"))
    assert png.read_bytes().startswith(b"\x89PNG")

    # one new activity: only its tiles are drawn
    with duckdb.connect(str(data / "strava.duckdb")) as con:
        insert_routes(con, [extra])
    added = update_tiles(data)
    assert (added.mode, added.added, added.changed, added.removed) == ("incremental", 1, 0, 0)
    assert 0 < added.tiles_written < first.tiles_total / 5
    assert tile_files(data) == full_build(tmp_path, "full_added", base + [extra])

    # one activity changed (moved 40 m east, still outside the zones), one deleted
    moved = next(shifted(r, 40.0) for r in base if not violations([shifted(r, 40.0).geometry], DEFAULT_ZONES))
    gone = next(r for r in base if r.activity_id != moved.activity_id)
    with duckdb.connect(str(data / "strava.duckdb")) as con:
        insert_routes(con, [moved])
        delete_routes(con, [gone.activity_id])
    changed = update_tiles(data)
    assert (changed.mode, changed.added, changed.changed, changed.removed) == ("incremental", 0, 1, 1)
    assert changed.tiles_deleted > 0  # tiles only the deleted or moved route touched are gone
    expected = [moved if r.activity_id == moved.activity_id else r for r in base + [extra] if r is not gone]
    assert tile_files(data) == full_build(tmp_path, "full_changed", expected)


def test_public_only_tiles_leave_out_private_activities(tmp_path, routes):
    data = tmp_path / "data"
    write_warehouse(data / "strava.duckdb", routes[:30])
    everything = update_tiles(data, max_zoom=13)
    public = update_tiles(data, max_zoom=13, public_only=True)  # switching redraws everything
    assert public.mode == "full" and public.activities == sum(r.visibility == "everyone" for r in routes[:30])
    assert public.activities < everything.activities
    public_routes = [r for r in routes[:30] if r.visibility == "everyone"]
    assert tile_files(data) == full_build(tmp_path, "public", routes[:30], max_zoom=13, public_only=True)
    meta = json.loads((data / "tiles" / "tiles.json").read_text())
    assert meta["public_only"] is True and meta["maxzoom"] == 13 and meta["activities"] == len(public_routes)


def test_tiles_command_reports_what_it_did(data_dir, tmp_path):
    rc, out, err = cli(data_dir, "tiles", "--max-zoom", "12")
    assert rc == 0, err
    assert "full rebuild" in out and "zoom 0-12" in out
    rc, out, err = cli(data_dir, "tiles", "--max-zoom", "12")
    assert rc == 0 and "up to date" in out
    shutil.rmtree(data_dir / "tiles" / "12")  # the inputs know better than the files: --rebuild restores them
    rc, out, err = cli(data_dir, "tiles", "--max-zoom", "12", "--rebuild")
    assert rc == 0 and (data_dir / "tiles" / "12").is_dir()
