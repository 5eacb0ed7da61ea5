"""Generated masked routes around Ljubljana and a warehouse holding them, for the map tests and benchmarks.

The routes go through the same steps as the dbt masking (int_activity_tracks__masked): a GPS-like track, the
privacy zones (widened by the margin) cut out in a metric CRS, a 5 m snap, a 15 m simplification, made valid,
a MULTILINESTRING in WGS84. The metric CRS here is a local equirectangular one around the first zone (good to
centimetres over a few tens of km), so no PROJ is needed.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import shapely

from strava_pipeline.maps.routes import Zone

# Ljubljana, and the home zone of dbt_project/seeds/privacy_zones.csv
CENTER_LAT, CENTER_LNG = 46.0569, 14.5058
M_PER_DEG_LAT = 111_132.0
PRIVACY_MARGIN_M, GRID_M, SIMPLIFY_M = 25.0, 5.0, 15.0  # the dbt vars privacy_margin_m, _grid_m, _simplify_m


DEFAULT_ZONES = (Zone("home", CENTER_LAT, CENTER_LNG, 400.0), Zone("work", 46.0500, 14.4690, 200.0))

# sport, speed m/s, share of activities
SPORTS = (("Ride", 7.0, 0.45), ("Run", 3.0, 0.35), ("Walk", 1.4, 0.1), ("Hike", 1.2, 0.1))


@dataclass
class Route:
    activity_id: int
    name: str
    sport_type: str
    start_date_local: date
    distance_km: float
    geometry: object  # shapely MultiLineString, WGS84 (x = lng, y = lat)
    visibility: str = "everyone"
    athlete_id: int = 1


def to_metric(lng, lat, lat0: float = CENTER_LAT, lng0: float = CENTER_LNG):
    kx = M_PER_DEG_LAT * math.cos(math.radians(lat0))
    return (np.asarray(lng) - lng0) * kx, (np.asarray(lat) - lat0) * M_PER_DEG_LAT


def to_wgs84(x, y, lat0: float = CENTER_LAT, lng0: float = CENTER_LNG):
    kx = M_PER_DEG_LAT * math.cos(math.radians(lat0))
    return np.asarray(x) / kx + lng0, np.asarray(y) / M_PER_DEG_LAT + lat0


def _track(rng: np.random.Generator, start_xy, length_m: float, step_m: float) -> np.ndarray:
    """A wandering GPS-like track in metres: smooth heading changes, turns at junctions, 2 m noise."""
    n = max(3, int(length_m / step_m))
    turns = rng.normal(0, 0.08, n)
    junction = rng.random(n) < step_m / 400.0
    turns[junction] += rng.choice([-1, 1], junction.sum()) * rng.uniform(0.8, 1.8, junction.sum())
    # heading drifts back towards the start after half the way, so most routes are loops
    heading = rng.uniform(0, 2 * math.pi) + np.cumsum(turns)
    steps = np.stack([np.cos(heading), np.sin(heading)], axis=1) * step_m
    xy = start_xy + np.cumsum(steps, axis=0)
    home_pull = np.linspace(0, 1, n)[:, None] ** 3
    xy = xy * (1 - home_pull) + start_xy * home_pull
    return xy + rng.normal(0, 2.0, xy.shape)


def zones_of(zones: Sequence[Zone], athlete_id: int) -> list:
    """The zones that mask an athlete's routes: theirs and those without an athlete (macros/geo.sql's rule)."""
    return [z for z in zones if z.athlete_id is None or z.athlete_id == athlete_id]


def mask(track_xy: np.ndarray, zones: Sequence[Zone], lat0: float = CENTER_LAT, lng0: float = CENTER_LNG):
    """The dbt masking on a metric track: zones + margin cut out, 5 m snap, 15 m simplification; WGS84 out. The
    zones are those of the track's athlete (zones_of)."""
    line = shapely.LineString(track_xy)
    if zones:
        cover = shapely.union_all(
            [
                shapely.Point(*np.ravel(to_metric(z.lon, z.lat, lat0, lng0))).buffer(z.radius_m + PRIVACY_MARGIN_M, 16)
                for z in zones
            ]
        )
        line = line.difference(cover)
    line = shapely.make_valid(shapely.simplify(shapely.set_precision(line, GRID_M), SIMPLIFY_M))
    parts = [g for g in shapely.get_parts(line) if g.geom_type == "LineString" and g.length > 0]
    if not parts:
        return None
    out = []
    for part in parts:
        x, y = np.asarray(part.coords).T
        out.append(np.stack(to_wgs84(x, y, lat0, lng0), axis=1))
    return shapely.MultiLineString(out)


def generate_routes(
    count: int,
    seed: int = 1,
    zones: Sequence[Zone] = DEFAULT_ZONES,
    first_day: date = date(2024, 1, 1),
    first_id: int = 10_000_000_000,
    length_km: tuple = (4.0, 60.0),
    step_s: float = 4.0,
    athlete_id: int = 1,
) -> list:
    """`count` masked routes of one athlete, most of them starting at home (so the masking matters), some on
    repeated loops; masked by the zones of that athlete and those of everybody."""
    zones = zones_of(zones, athlete_id)
    rng = np.random.default_rng(seed)
    names = [s[0] for s in SPORTS]
    weights = np.array([s[2] for s in SPORTS])
    starts = [np.array([0.0, 0.0])] * 6 + [rng.uniform(-12_000, 12_000, 2) for _ in range(4)]
    routes, day, activity_id = [], first_day, first_id
    while len(routes) < count:
        sport_index = rng.choice(len(SPORTS), p=weights / weights.sum())
        sport, speed = names[sport_index], SPORTS[sport_index][1]
        length = rng.uniform(*length_km) * 1000 * (1.0 if sport == "Ride" else 0.35)
        start = starts[rng.integers(len(starts))] + rng.normal(0, 30, 2)
        track = _track(rng, start, length, speed * step_s)
        geometry = mask(track, zones)
        day += timedelta(days=int(rng.integers(0, 3)))
        activity_id += int(rng.integers(1, 1000))
        if geometry is None:
            continue
        visibility = "everyone" if rng.random() < 0.8 else str(rng.choice(["followers_only", "only_me"]))
        routes.append(
            Route(
                activity_id,
                f'{["Morning", "Lunch", "Evening"][int(rng.integers(3))]} {sport} <{len(routes) + 1}> & "co"',
                sport,
                day,
                round(length / 1000, 2),
                geometry,
                visibility,
                athlete_id,
            )
        )
    return routes


def point_count(routes: Iterable[Route]) -> int:
    return int(sum(shapely.get_num_coordinates(r.geometry) for r in routes))


def write_warehouse(
    path: Path, routes: Sequence[Route], zones: Sequence[Zone] = DEFAULT_ZONES, with_routes: bool = True
) -> Path:
    """A DuckDB file with the tables the maps read, shaped like the dbt marts: marts.activity_routes_masked,
    marts.fct_activities (visibility) and seeds.privacy_zones (athlete_id: null = every athlete). Replaces the
    file."""
    import duckdb

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "seeds"):
            con.execute(f"create schema {schema}")
        con.execute(
            "create table seeds.privacy_zones "
            "(name varchar, lat double, lon double, radius_m double, athlete_id bigint)"
        )
        con.executemany(
            "insert into seeds.privacy_zones values (?, ?, ?, ?, ?)",
            [(z.name, z.lat, z.lon, z.radius_m, z.athlete_id) for z in zones],
        )
        con.execute("""create table marts.fct_activities (activity_id bigint, athlete_id bigint, activity_name varchar,
                       sport_type varchar, start_date_local date, distance_km double, is_private boolean,
                       visibility varchar)""")
        if routes:
            con.executemany(
                "insert into marts.fct_activities values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.activity_id,
                        r.athlete_id,
                        r.name,
                        r.sport_type,
                        r.start_date_local,
                        r.distance_km,
                        r.visibility == "only_me",
                        r.visibility,
                    )
                    for r in routes
                ],
            )
        if with_routes:
            _create_routes_table(con)
            insert_routes(con, routes)
    return path


def _create_routes_table(con) -> None:
    con.execute("""create table marts.activity_routes_masked (
        activity_id bigint, athlete_id bigint, activity_name varchar, sport_type varchar,
        start_at_local timestamp, start_date_local date, distance_km double,
        min_lat double, max_lat double, min_lng double, max_lng double,
        route_wkt varchar, route_geojson varchar, route_geom geometry)""")


def insert_routes(con, routes: Sequence[Route]) -> None:
    """Adds (or replaces) routes in marts.activity_routes_masked of an open connection."""
    if not routes:
        return
    rows = []
    for r in routes:
        x0, y0, x1, y1 = shapely.bounds(r.geometry)
        wkt = shapely.to_wkt(r.geometry, rounding_precision=-1)
        rows.append(
            (
                r.activity_id,
                r.athlete_id,
                r.name,
                r.sport_type,
                datetime.combine(r.start_date_local, datetime.min.time()),
                r.start_date_local,
                r.distance_km,
                y0,
                y1,
                x0,
                x1,
                wkt,
                shapely.to_geojson(r.geometry),
                wkt,
            )
        )
    con.executemany("delete from marts.activity_routes_masked where activity_id = ?", [(r[0],) for r in rows])
    con.executemany(
        "insert into marts.activity_routes_masked values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::geometry)", rows
    )


def delete_routes(con, activity_ids: Iterable[int]) -> None:
    activity_ids = list(activity_ids)
    if activity_ids:
        con.executemany("delete from marts.activity_routes_masked where activity_id = ?", [(i,) for i in activity_ids])


def shifted(route: Route, metres_east: float, new_id: int | None = None) -> Route:
    """The same route moved east (a changed activity), optionally under a new id."""
    kx = M_PER_DEG_LAT * math.cos(math.radians(CENTER_LAT))
    geometry = shapely.transform(route.geometry, lambda c: c + np.array([metres_east / kx, 0.0]))
    return Route(
        new_id or route.activity_id,
        route.name,
        route.sport_type,
        route.start_date_local,
        route.distance_km,
        geometry,
        route.visibility,
        route.athlete_id,
    )
