"""The masked routes of the warehouse (marts.activity_routes_masked), read-only, filtered and in bounded chunks."""

import contextlib
import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import shapely

from strava_pipeline.config import UserError, strava_command
from strava_pipeline.maps import settings

# routes fetched from DuckDB at a time (the memory of a batch grows with it); chunks are then cut by points
_FETCH_ROWS = 256


@dataclass(frozen=True)
class RouteFilter:
    """Which routes: sport types (case-insensitive, empty = all), local start day range, public only."""

    sports: tuple = ()
    since: date | None = None
    until: date | None = None
    public_only: bool = False

    def describe(self) -> str:
        parts = []
        if self.sports:
            parts.append("sport " + " or ".join(self.sports))
        if self.since:
            parts.append(f"since {self.since}")
        if self.until:
            parts.append(f"until {self.until}")
        if self.public_only:
            parts.append("public only")
        return ", ".join(parts) or "all"


@dataclass(frozen=True)
class Zone:
    name: str
    lat: float
    lon: float
    radius_m: float
    athlete_id: int | None = None  # whose routes it guards; None: everybody's


@dataclass
class RouteChunk:
    """Columns of a run of routes, in (start day, activity id) order; geometry: shapely MultiLineStrings."""

    ids: np.ndarray
    names: list
    days: list  # YYYY-MM-DD, local
    sports: list
    distance_km: list
    geometries: np.ndarray = field(repr=False)
    athletes: list = field(default_factory=list, repr=False)  # athlete id per route (None: unknown); [] = not read

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def points(self) -> int:
        return int(shapely.get_num_coordinates(self.geometries).sum()) if len(self) else 0


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _rel(relation: tuple) -> str:
    return ".".join(_q(part) for part in relation)


# an import or dbt build writing the warehouse: wait this long for it, then say it is busy (like `reports build`)
WAREHOUSE_LOCK_WAIT_S = 30


@contextlib.contextmanager
def open_warehouse(data_dir: Path, lock: bool = False):
    """A read-only DuckDB connection to <data dir>/strava.duckdb; user errors when it is missing or locked.

    lock: hold the data dir's writer lock (strava_pipeline.lock) meanwhile, so that an import or dbt build waits
    for this read instead of failing on DuckDB's file lock; off for a caller that holds it already."""
    import duckdb

    from strava_pipeline import warehouses

    if not warehouses.exists(data_dir):
        raise UserError(
            f"No warehouse at {warehouses.describe(data_dir)}: load one with `{strava_command(data_dir)}`, which "
            "also builds the masked routes."
        )
    # the DuckDB file, or with STRAVA_WAREHOUSE=postgres a DuckDB copy of the routes and zones
    path = warehouses.readable_warehouse(data_dir, [settings.ROUTES_RELATION, settings.ZONES_RELATION])
    with contextlib.ExitStack() as stack:
        if lock:
            from strava_pipeline.lock import warehouse_lock

            stack.enter_context(warehouse_lock(data_dir, wait_s=WAREHOUSE_LOCK_WAIT_S, holder="strava.py maps"))
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise UserError(
                    f"The warehouse {path} is being written by another process (an import or dbt "
                    "build): run this again when it has finished."
                ) from None
            raise
        stack.callback(con.close)
        yield con


class RouteSource:
    """Queries over the masked routes mart of an open warehouse connection."""

    def __init__(self, con, warehouse: Path) -> None:
        self.con = con
        self.warehouse = warehouse
        self.dbt_build = strava_command(warehouse.parent, "dbt", "build")  # for hints: the exact command
        relations = {
            tuple(r) for r in con.sql("select table_schema, table_name from information_schema.tables").fetchall()
        }
        self.relations = relations
        if settings.ROUTES_RELATION not in relations:
            raise UserError(
                f"The masked routes are not built yet ({'.'.join(settings.ROUTES_RELATION)} is missing in "
                f"{warehouse}): run `{self.dbt_build}` first."
            )
        self.columns = self._columns(settings.ROUTES_RELATION)
        missing = {"activity_id", "activity_name", "sport_type", "start_date_local", "distance_km"} - set(self.columns)
        if "route_geom" not in self.columns and "route_wkt" not in self.columns:
            missing.add("route_geom")
        if missing:
            raise UserError(
                f"{'.'.join(settings.ROUTES_RELATION)} lacks {', '.join(sorted(missing))}: rebuild it "
                f"with `{self.dbt_build}`."
            )

    def _columns(self, relation: tuple) -> dict:
        return dict(
            self.con.sql(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                params=list(relation),
            ).fetchall()
        )

    # --------------------------------------------------------------------------------------------- filtering

    def _where(self, flt: RouteFilter) -> tuple:
        clauses, params = [], []
        if flt.sports:
            clauses.append(f"lower(r.sport_type) in ({', '.join('?' for _ in flt.sports)})")
            params += [s.lower() for s in flt.sports]
        if flt.since:
            clauses.append("cast(r.start_date_local as date) >= ?")
            params.append(flt.since)
        if flt.until:
            clauses.append("cast(r.start_date_local as date) <= ?")
            params.append(flt.until)
        join = ""
        if flt.public_only:
            if settings.ACTIVITIES_RELATION not in self.relations:
                raise UserError(
                    f"--public-only needs {'.'.join(settings.ACTIVITIES_RELATION)}: run `{self.dbt_build}` first."
                )
            cols = self._columns(settings.ACTIVITIES_RELATION)
            if "visibility" not in cols and "is_private" not in cols:
                relation = ".".join(settings.ACTIVITIES_RELATION)
                raise UserError(
                    f"--public-only needs the visibility of the activities, which {relation} lacks: "
                    f"rebuild it with `{self.dbt_build}`."
                )
            visible = "a.visibility = ?" if "visibility" in cols else "null"
            private = "not a.is_private" if "is_private" in cols else "null"
            join = f" join {_rel(settings.ACTIVITIES_RELATION)} a on a.activity_id = r.activity_id"
            # Strava's visibility when present, else the private flag; unknown counts as not public
            clauses.append(f"coalesce({visible}, {private}, false)")
            if "visibility" in cols:
                params.append(settings.PUBLIC_VISIBILITY)
        where = (" where " + " and ".join(clauses)) if clauses else ""
        return f" from {_rel(settings.ROUTES_RELATION)} r{join}{where}", params

    def _athlete_sql(self) -> str:
        # a routes mart built before athlete_id existed: unknown athlete, every zone guards the route
        return "r.athlete_id" if "athlete_id" in self.columns else "cast(null as bigint)"

    def _geometry_sql(self) -> str:
        # the GEOMETRY column comes out as WKB without the spatial extension (DuckDB 1.5 core type)
        return "r.route_geom" if "route_geom" in self.columns else "r.route_wkt"

    def count(self, flt: RouteFilter) -> int:
        body, params = self._where(flt)
        return self.con.sql("select count(*)" + body, params=params).fetchone()[0]

    def sports(self) -> list:
        return [
            r[0]
            for r in self.con.sql(
                f"select distinct sport_type from {_rel(settings.ROUTES_RELATION)} order by 1"
            ).fetchall()
        ]

    def bbox(self, flt: RouteFilter) -> tuple | None:
        """(min lng, min lat, max lng, max lat) of the matching routes, None when there are none."""
        body, params = self._where(flt)
        if {"min_lat", "max_lat", "min_lng", "max_lng"} <= set(self.columns):
            row = self.con.sql(
                "select min(r.min_lng), min(r.min_lat), max(r.max_lng), max(r.max_lat)" + body, params=params
            ).fetchone()
            return None if row[0] is None else tuple(float(v) for v in row)
        bounds = None
        for chunk in self.chunks(flt):
            b = shapely.total_bounds(chunk.geometries)
            bounds = (
                b if bounds is None else np.concatenate([np.minimum(bounds[:2], b[:2]), np.maximum(bounds[2:], b[2:])])
            )
        return None if bounds is None else tuple(float(v) for v in bounds)

    # ------------------------------------------------------------------------------------------------ rows

    def ordered_ids(self, flt: RouteFilter) -> list:
        """Ids of the matching routes in order of local start day, then id."""
        body, params = self._where(flt)
        return [
            r[0]
            for r in self.con.execute(
                "select r.activity_id" + body + " order by cast(r.start_date_local as date), r.activity_id", params
            ).fetchall()
        ]

    def chunks(self, flt: RouteFilter, max_points: int = settings.CHUNK_POINTS) -> Iterator[RouteChunk]:
        """The matching routes in order of start day and id, in chunks of about max_points vertices (a single
        route may exceed it), geometry parts that continue each other joined (see join_parts).

        The order is taken first (ids only); the rows then come _FETCH_ROWS at a time, so neither DuckDB (no sort
        of the geometries) nor Python ever holds more than a few batches."""
        ids = self.ordered_ids(flt)
        sql = (
            f"select r.activity_id, r.activity_name, strftime(cast(r.start_date_local as date), '%Y-%m-%d'), "
            f"r.sport_type, r.distance_km, {self._geometry_sql()}, {self._athlete_sql()} "
            f"from {_rel(settings.ROUTES_RELATION)} r where r.activity_id in (select unnest(?::bigint[]))"
        )
        pending: list = []
        pending_points = 0
        for first in range(0, len(ids), _FETCH_ROWS):
            wanted = ids[first : first + _FETCH_ROWS]
            table = self.con.execute(sql, [wanted]).to_arrow_table()
            position = {activity_id: i for i, activity_id in enumerate(table.column(0).to_pylist())}
            batch = table.take([position[i] for i in wanted])
            chunk = _to_chunk(batch)
            del table, batch
            counts = shapely.get_num_coordinates(chunk.geometries)
            start = 0
            for i, n in enumerate(counts.tolist()):
                pending_points += n
                if pending_points >= max_points:
                    pending.append(_slice(chunk, start, i + 1))
                    yield _concat(pending)
                    pending, pending_points, start = [], 0, i + 1
            if start < len(chunk):
                pending.append(_slice(chunk, start, len(chunk)))
        if pending:
            yield _concat(pending)

    def hashes(self, flt: RouteFilter) -> dict:
        """activity_id -> md5 of the route's WKB (or WKT), for the matching routes."""
        body, params = self._where(flt)
        expr = "md5(st_aswkb(r.route_geom))" if "route_geom" in self.columns else "md5(r.route_wkt)"
        return dict(self.con.sql(f"select r.activity_id, {expr}" + body, params=params).fetchall())

    def geometries(self, ids: Sequence[int]) -> dict:
        """activity_id -> WKB of the masked route (parts joined), for the given ids."""
        if not len(ids):
            return {}
        rows = self.con.execute(
            f"select r.activity_id, {self._geometry_sql()} from {_rel(settings.ROUTES_RELATION)} r "
            "where r.activity_id in (select unnest(?::bigint[]))",
            [list(ids)],
        ).fetchall()
        ids_out = [r[0] for r in rows]
        geoms = join_parts(_parse([r[1] for r in rows]))
        return dict(zip(ids_out, shapely.to_wkb(geoms).tolist()))

    def athletes(self, ids: Sequence[int]) -> dict:
        """activity_id -> athlete_id of the routes (None when unknown or the mart has no such column)."""
        if not len(ids):
            return {}
        return dict(
            self.con.execute(
                f"select r.activity_id, {self._athlete_sql()} from {_rel(settings.ROUTES_RELATION)} r "
                "where r.activity_id in (select unnest(?::bigint[]))",
                [list(ids)],
            ).fetchall()
        )

    # --------------------------------------------------------------------------------------------- zones

    def warehouse_zones(self) -> list:
        if settings.ZONES_RELATION not in self.relations:
            return []
        # a seed of the four columns before athlete_id: every zone guards everybody
        athlete = "athlete_id" if "athlete_id" in self._columns(settings.ZONES_RELATION) else "null"
        rows = self.con.sql(
            f"select name, lat, lon, radius_m, {athlete} from {_rel(settings.ZONES_RELATION)}"
        ).fetchall()
        return [
            Zone(str(n), float(a), float(o), float(r), _athlete_id(athlete_id))
            for n, a, o, r, athlete_id in rows
            if None not in (a, o, r)
        ]


def _athlete_id(value) -> int | None:
    """A zone's athlete_id as an int; empty or not a whole number: None, so that the zone guards everybody (the
    dbt build rejects such a value; until then the guard errs on the safe side)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and number > 0 else None


def csv_zones(path: Path | None = None) -> list:
    """The privacy zones of the dbt seed file (name, lat, lon, radius_m, and athlete_id when the file has the
    column); rows whose position or radius is not a number are skipped here (the dbt build rejects them)."""
    path = Path(path or settings.ZONES_CSV)
    if not path.exists():
        return []
    zones = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                zones.append(
                    Zone(
                        row.get("name", ""),
                        float(row["lat"]),
                        float(row["lon"]),
                        float(row["radius_m"]),
                        _athlete_id(row.get("athlete_id")),
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue
    return zones


def _parse(values: list) -> np.ndarray:
    if values and isinstance(values[0], str):
        return shapely.from_wkt(values)
    return shapely.from_wkb(values)


def _to_chunk(batch) -> RouteChunk:
    cols = batch.columns
    return RouteChunk(
        ids=np.asarray(cols[0].to_numpy(zero_copy_only=False), dtype=np.int64),
        names=[n if n is not None else "" for n in cols[1].to_pylist()],
        days=cols[2].to_pylist(),
        sports=[s if s is not None else "" for s in cols[3].to_pylist()],
        distance_km=cols[4].to_pylist(),
        geometries=join_parts(_parse(cols[5].to_pylist())),
        athletes=cols[6].to_pylist() if len(cols) > 6 else [],
    )


def _slice(chunk: RouteChunk, a: int, b: int) -> RouteChunk:
    return RouteChunk(
        chunk.ids[a:b],
        chunk.names[a:b],
        chunk.days[a:b],
        chunk.sports[a:b],
        chunk.distance_km[a:b],
        chunk.geometries[a:b],
        chunk.athletes[a:b],
    )


def _concat(chunks: list) -> RouteChunk:
    if len(chunks) == 1:
        return chunks[0]
    return RouteChunk(
        np.concatenate([c.ids for c in chunks]),
        sum((c.names for c in chunks), []),
        sum((c.days for c in chunks), []),
        sum((c.sports for c in chunks), []),
        sum((c.distance_km for c in chunks), []),
        np.concatenate([c.geometries for c in chunks]),
        sum((c.athletes for c in chunks), []),
    )


def join_parts(geometries: np.ndarray) -> np.ndarray:
    """MultiLineStrings whose consecutive parts continue each other (the end of one is the start of the next,
    exactly) with those parts joined into one line.

    The masking's overlay and make-valid steps cut a track at every place it crosses itself, so a route of 200
    vertices arrives in dozens of parts; joined, the same coordinates need far fewer brackets and arcs. Gaps
    (the cut-out privacy zones) stay gaps: only exactly equal end and start points are joined."""
    geometries = np.asarray(geometries, dtype=object)
    if not len(geometries):
        return geometries
    parts, owner = shapely.get_parts(geometries, return_index=True)
    lines = parts[shapely.get_type_id(parts) == 1]
    owner = owner[shapely.get_type_id(parts) == 1]
    if not len(lines):
        return np.array([shapely.MultiLineString() for _ in geometries], dtype=object)
    coords, line_of = shapely.get_coordinates(lines, return_index=True)
    counts = np.bincount(line_of, minlength=len(lines))
    starts = np.cumsum(counts) - counts
    ends = starts + counts - 1
    # part i continues part i-1 when both belong to the same route and its first point is the other's last
    joins = np.zeros(len(lines), dtype=bool)
    joins[1:] = (owner[1:] == owner[:-1]) & (coords[starts[1:]] == coords[ends[:-1]]).all(axis=1)
    new_line = np.cumsum(~joins) - 1
    keep = np.ones(len(coords), dtype=bool)
    keep[starts[joins]] = False  # the shared point once
    merged = shapely.linestrings(coords[keep], indices=new_line[line_of[keep]])
    present, dense = np.unique(owner[~joins], return_inverse=True)
    out = np.array([shapely.MultiLineString()] * len(geometries), dtype=object)
    out[present] = shapely.multilinestrings(merged, indices=dense)
    return out
