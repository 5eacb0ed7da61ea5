"""Privacy masking of GPS tracks: the dbt model in DuckDB spatial next to the same masking in PostGIS.

Run: uv run python benchmarks/bench_masking.py [--points 1000000] [--demo-dir data/demo] [--repeat 3] [--no-postgis]

Datasets, each masked by both engines with the same tracks and the same zones (seeds/privacy_zones.csv, plus
BENCH_ZONE, a zone of athlete 2 only, widened by the privacy_margin_m var exactly as int_privacy_zones does; a zone
masks the tracks of its athlete, or everybody's when it names none):
  demo       the latlng streams of the demo athlete (<demo dir>/strava.duckdb: STRAVA_DATA_DIR, else data/demo;
             made with `uv run strava.py --demo --start-date 2024-06-01` if missing)
  generated  at least --points GPS points of athletes 1 and 2 in turn: loops of ~1 Hz runs and rides, most of
             them starting inside a zone (athlete 1's in athlete 2's zone too, where they stay unmasked), some in
             the next UTM zone east (per-row CRS)
DuckDB runs the SQL of models/intermediate/int_activity_tracks__masked.sql as dbt compiles it. PostGIS runs the
same steps (ST_MakeLine in point order, ST_Transform to the UTM zone of the first point, ST_Difference with the
zone buffers, ST_ReducePrecision 5 m, ST_SimplifyPreserveTopology 15 m, ST_MakeValid, ST_CollectionExtract,
ST_Multi, back to 4326) on a throwaway PostgreSQL cluster that the benchmark starts on 127.0.0.1 and stops.
Printed: points/s for both (best of --repeat, the machine is shared), the ratio, and how many published vertices
lie inside a zone of their athlete (radius_m as written) for each: the target is 0, and DuckDB at least as fast.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = PROJECT_ROOT / "dbt_project"
sys.path.insert(0, str(DBT_DIR / "plugins"))
sys.path.insert(0, str(PROJECT_ROOT))
from strava_duckdb import spatial_extension_path  # noqa: E402  (the same offline LOAD as dbt)

from tests.support.postgres import POSTGIS_HINT, PostgresServer  # noqa: E402  (one way to start the cluster)

# ------------------------------------------------------------------------------------------------ inputs
# a zone of athlete 2 only, about 3 km from the demo home: athlete 1's tracks through it stay as they are
BENCH_ZONE = {"name": "athlete_2_work", "lat": 46.0500, "lon": 14.4690, "radius_m": 200.0, "athlete_id": 2}


def read_zones() -> list[dict]:
    with open(DBT_DIR / "seeds" / "privacy_zones.csv", newline="") as f:
        return [
            {
                "name": r["name"],
                "lat": float(r["lat"]),
                "lon": float(r["lon"]),
                "radius_m": float(r["radius_m"]),
                "athlete_id": int(r["athlete_id"]) if (r.get("athlete_id") or "").strip() else None,
            }
            for r in csv.DictReader(f)
        ] + [BENCH_ZONE]


def demo_warehouse(demo_dir: str | None) -> Path | None:
    """The demo athlete's warehouse; the default one (data/demo) is made with the project's CLI when missing."""
    chosen = demo_dir or os.environ.get("STRAVA_DATA_DIR")
    base = Path(chosen).expanduser() if chosen else PROJECT_ROOT / "data" / "demo"
    path = (base if base.is_absolute() else PROJECT_ROOT / base) / "strava.duckdb"
    if path.exists():
        return path
    if chosen:
        print(f"No warehouse at {path}: the demo dataset is left out.")
        return None
    print(f"No demo warehouse at {path}: making one with `uv run strava.py --demo --start-date 2024-06-01` ...")
    run = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "strava.py"), "--demo", "--start-date", "2024-06-01", "--import-only"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0 or not path.exists():
        print(f"  the demo import failed (exit {run.returncode}): {(run.stderr or run.stdout).strip()[-300:]}")
        return None
    return path


def generated_points(target: int, zones: list[dict], seed: int = 11):
    """Columns (activity_id, athlete_id, point_index, lat, lng) of enough looped tracks to reach `target` points."""
    rng = np.random.default_rng(seed)
    starts = [(z["lat"], z["lon"]) for z in zones] or [(46.0569, 14.5058)]
    ids, idx, lats, lngs = [], [], [], []
    total, activity = 0, 0
    while total < target:
        activity += 1
        n = int(rng.integers(1200, 4000))
        # athletes alternate (athlete_id below); both start from every zone's centre in turn
        home = starts[(activity // 2) % len(starts)]
        kind = activity % 10
        if kind < 6:  # from home, inside the zone
            lat0, lng0 = home[0] + rng.normal(0, 0.0005), home[1] + rng.normal(0, 0.0007)
        elif kind < 9:  # elsewhere within 30 km
            lat0, lng0 = home[0] + rng.uniform(-0.27, 0.27), home[1] + rng.uniform(-0.38, 0.38)
        else:  # the next UTM zone to the east
            lat0, lng0 = home[0] + rng.uniform(-0.5, 0.5), 19.5 + rng.uniform(0, 1.5)
        step_m = rng.uniform(2.5, 8.0)  # a run or a ride at 1 Hz
        heading = rng.uniform(0, 2 * math.pi) + np.cumsum(rng.normal(0, 0.06, n)) + np.linspace(0, 2 * math.pi, n)
        north, east = np.cumsum(step_m * np.cos(heading)), np.cumsum(step_m * np.sin(heading))
        # close the loop: pull the end back to the start
        north -= np.linspace(0, north[-1], n)
        east -= np.linspace(0, east[-1], n)
        lats.append(lat0 + north / 111132.0)
        lngs.append(lng0 + east / (111320.0 * math.cos(math.radians(lat0))))
        ids.append(np.full(n, activity, dtype=np.int64))
        idx.append(np.arange(n, dtype=np.int32))
        total += n
    return {
        "activity_id": np.concatenate(ids),
        "athlete_id": 1 + np.concatenate(ids) % 2,
        "point_index": np.concatenate(idx),
        "lat": np.concatenate(lats),
        "lng": np.concatenate(lngs),
    }


# ------------------------------------------------------------------------------------------------ DuckDB
def compile_models(scratch: Path) -> dict[str, str]:
    """The SQL of int_privacy_zones and int_activity_tracks__masked as dbt compiles it against the scratch file."""
    from dbt.cli.main import dbtRunner

    env_before = os.environ.get("STRAVA_DATA_DIR")
    os.environ["STRAVA_DATA_DIR"] = str(scratch)
    try:
        res = dbtRunner().invoke(
            [
                "--log-level",
                "none",
                "compile",
                "--select",
                "int_privacy_zones int_activity_tracks__masked",
                "--project-dir",
                str(DBT_DIR),
                "--profiles-dir",
                str(DBT_DIR),
                "--target-path",
                str(scratch / "target"),
                "--log-path",
                str(scratch / "logs"),
            ]
        )
    finally:
        if env_before is None:
            os.environ.pop("STRAVA_DATA_DIR", None)
        else:
            os.environ["STRAVA_DATA_DIR"] = env_before
    if not res.success:
        raise SystemExit(f"dbt compile failed: {res.exception}")
    return {r.node.name: r.node.compiled_code for r in res.result.results}


class DuckDBMasking:
    def __init__(self, scratch: Path, zones: list[dict]) -> None:
        # the compiled SQL names the catalog after the warehouse file: strava
        self.path = scratch / "strava.duckdb"
        # the seed table first: int_privacy_zones compiles to read athlete_id only where the table has it
        with duckdb.connect(str(self.path)) as con:
            con.execute(
                "create schema if not exists seeds; create schema if not exists staging; "
                "create schema if not exists intermediate"
            )
            con.execute(
                "create or replace table seeds.privacy_zones "
                "(name varchar, lat double, lon double, radius_m double, athlete_id bigint)"
            )
            con.executemany(
                "insert into seeds.privacy_zones values (?, ?, ?, ?, ?)",
                [(z["name"], z["lat"], z["lon"], z["radius_m"], z["athlete_id"]) for z in zones],
            )
        self.sql = compile_models(scratch)
        self.con = duckdb.connect(str(self.path))
        self.con.execute(f"LOAD '{spatial_extension_path()}'")
        self.con.execute(f"create or replace table intermediate.int_privacy_zones as {self.sql['int_privacy_zones']}")
        self.zones = self.con.execute(
            "select zone_name, lat, lng, radius_m, mask_radius_m, box_min_lat, box_max_lat, "
            "box_min_lng, box_max_lng, athlete_id from intermediate.int_privacy_zones"
        ).fetchall()

    def load_points(self, columns: dict) -> int:
        import pyarrow as pa

        self.points = pa.table(columns)
        self.con.register("bench_points", self.points)
        self.con.execute(
            "create or replace table staging.stg_strava__activity_streams as "
            "select activity_id, athlete_id, point_index, lat, lng from bench_points"
        )
        self.con.unregister("bench_points")
        return self.points.num_rows

    def mask(self) -> float:
        start = time.perf_counter()
        self.con.execute("create or replace table bench_masked as " + self.sql["int_activity_tracks__masked"])
        return time.perf_counter() - start

    def result(self) -> tuple[int, int, int]:
        """(routes, published vertices, vertices within radius_m of a zone centre of their athlete, on the sphere)."""
        # DuckDB's ST_Distance_Sphere takes [lat, lon] points: the published (lng, lat) vertices are flipped
        return self.con.execute("""
            with v as (
                select activity_id, athlete_id, unnest(st_dump(st_points(route_geom)), recursive := true)
                from bench_masked
            )
            select (select count(*) from bench_masked), count(*),
                   count(*) filter (where exists (
                       select 1 from intermediate.int_privacy_zones z
                       where (z.athlete_id is null or coalesce(v.athlete_id, 0) = 0 or z.athlete_id = v.athlete_id)
                         and st_distance_sphere(st_flipcoordinates(v.geom), st_point(z.lat, z.lng)) < z.radius_m))
            from v
        """).fetchone()


# ------------------------------------------------------------------------------------------------ PostGIS
POSTGIS_MASKING = """
drop table if exists bench_masked;
create table bench_masked as
with tracks as (
    select activity_id, min(athlete_id) as athlete_id, count(*) as raw_point_count,
           (array_agg(lat order by point_index))[1] as first_lat, (array_agg(lng order by point_index))[1] as first_lng,
           min(lat) as min_lat, max(lat) as max_lat, min(lng) as min_lng, max(lng) as max_lng,
           st_makeline(st_setsrid(st_makepoint(lng, lat), 4326) order by point_index) as track_wgs84
    from points
    where lat is not null
    group by activity_id
    having count(*) >= 2
),
projected as (
    select t.*, (case when first_lat >= 0 then 32600 else 32700 end
                 + least(60, greatest(1, floor((first_lng + 180) / 6)::int + 1))) as utm_epsg
    from tracks t
),
projected_utm as (
    select p.*, st_transform(track_wgs84, utm_epsg) as track_utm from projected p
),
zone_cover as (
    select p.activity_id,
           st_union(st_buffer(st_transform(st_setsrid(st_makepoint(z.lng, z.lat), 4326), p.utm_epsg),
                              z.mask_radius_m, 16)) as cover_utm
    from projected_utm p
    join zones z
      on z.box_max_lat >= p.min_lat and z.box_min_lat <= p.max_lat
     and z.box_max_lng >= p.min_lng and z.box_min_lng <= p.max_lng
     and (z.athlete_id is null or coalesce(p.athlete_id, 0) = 0 or z.athlete_id = p.athlete_id)
    group by p.activity_id
),
masked as (
    select p.activity_id, p.athlete_id, p.utm_epsg,
           st_multi(st_collectionextract(st_makevalid(st_simplifypreservetopology(st_reduceprecision(
               case when c.cover_utm is null then p.track_utm else st_difference(p.track_utm, c.cover_utm) end,
               {grid}), {simplify})), 2)) as route_utm
    from projected_utm p
    left join zone_cover c on c.activity_id = p.activity_id
)
select activity_id, athlete_id, utm_epsg, st_transform(route_utm, 4326) as route_geom
from masked
where not st_isempty(route_utm) and st_length(route_utm) > 0;
"""

POSTGIS_RESULT = """
with v as (select athlete_id, (st_dumppoints(route_geom)).geom as geom from bench_masked)
select (select count(*) from bench_masked), count(*),
       count(*) filter (where exists (
           select 1 from zones z
           where (z.athlete_id is null or coalesce(v.athlete_id, 0) = 0 or z.athlete_id = v.athlete_id)
             and st_distancesphere(v.geom, st_setsrid(st_makepoint(z.lng, z.lat), 4326)) < z.radius_m))
from v;
"""


def _sql_value(value) -> str:
    if value is None:
        return "null"
    return f"'{value}'" if isinstance(value, str) else repr(float(value))


class PostGIS(PostgresServer):
    """The throwaway PostgreSQL + PostGIS cluster of the tests (tests/support/postgres.py) on 127.0.0.1, in
    scratch, with memory for the masking; stopped by close()."""

    def __init__(self, scratch: Path) -> None:
        super().__init__(scratch, shared_buffers="512MB", work_mem="256MB")
        self.version = self.psql("select postgis_lib_version();", tuples=True)
        self.server = self.psql("show server_version;", tuples=True).split(" ")[0]

    def load(self, zones: list[tuple], points_csv: Path) -> None:
        self.psql(
            "drop table if exists zones; create table zones (zone_name text, lat float8, lng float8, "
            "radius_m float8, mask_radius_m float8, box_min_lat float8, box_max_lat float8, "
            "box_min_lng float8, box_max_lng float8, athlete_id bigint);"
            "drop table if exists points; create table points (activity_id bigint, athlete_id bigint, "
            "point_index int, lat float8, lng float8);"
        )
        values = ",".join("(" + ",".join(_sql_value(v) for v in z) + ")" for z in zones)
        self.psql(f"insert into zones values {values};")
        # \copy: psql reads the file and streams it, so the server (another user) needs no access to it
        self.psql(f"\\copy points from '{points_csv}' with (format csv, header true)")
        self.psql("analyze points; analyze zones;")

    def mask(self, grid: float, simplify: float) -> float:
        out = self.psql(None, stdin="\\timing on\n" + POSTGIS_MASKING.format(grid=grid, simplify=simplify))
        # the last statement is the CREATE TABLE AS: its server round trip, as psql measures it
        times = [float(t) for t in re.findall(r"Time: ([\d.]+) ms", out)]
        return times[-1] / 1000.0

    def result(self) -> tuple[int, int, int]:
        row = self.psql(POSTGIS_RESULT, tuples=True).split("|")
        return tuple(int(x) for x in row)

    def close(self) -> None:
        self.stop()


# ------------------------------------------------------------------------------------------------ run
def dbt_var(name: str) -> float:
    text = (DBT_DIR / "dbt_project.yml").read_text()
    return float(re.search(rf"^\s*{name}:\s*([\d.]+)", text, re.M).group(1))


def points_csv(con: duckdb.DuckDBPyConnection, path: Path) -> Path:
    con.execute(
        f"copy (select activity_id, athlete_id, point_index, lat, lng "
        f"from staging.stg_strava__activity_streams) to '{path}' (header)"
    )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000, help="GPS points of the generated set (>= 1e6)")
    parser.add_argument("--demo-dir", help="data dir of the demo warehouse (default STRAVA_DATA_DIR or data/demo)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine and dataset; the best counts")
    parser.add_argument("--no-postgis", action="store_true", help="DuckDB only")
    args = parser.parse_args()

    zones = read_zones()
    grid, simplify = dbt_var("privacy_grid_m"), dbt_var("privacy_simplify_m")
    datasets: list[tuple[str, dict]] = []
    demo = demo_warehouse(args.demo_dir)
    if demo is not None:
        with duckdb.connect(str(demo), read_only=True) as con:
            cols = con.execute(
                "select s.activity_id, coalesce(s.athlete_id, 0) as athlete_id, s.point_index, s.lat, s.lng "
                "from strava.strava.activity_streams s join strava.strava.activities a on a.id = s.activity_id "
                "where not coalesce(a.deleted, false) and s.lat is not null"
            ).fetchnumpy()
        print(f"demo: {demo}")
        datasets.append(("demo", {k: np.asarray(v) for k, v in cols.items()}))
    datasets.append(("generated", generated_points(args.points, zones)))

    scratch = Path(tempfile.mkdtemp(prefix="bench_masking_"))
    postgis: PostGIS | None = None
    try:
        duck = DuckDBMasking(scratch, zones)
        threads = duck.con.execute("select current_setting('threads')").fetchone()[0]
        if not args.no_postgis:
            try:
                postgis = PostGIS(scratch)
            except (RuntimeError, OSError, LookupError) as exc:
                print(f"PostGIS is not available, DuckDB figures only: {exc}\n  install: {POSTGIS_HINT}")
        print(
            f"DuckDB {duckdb.__version__} + spatial (offline wheel), {threads} threads"
            + (
                f"; PostgreSQL {postgis.server} + PostGIS {postgis.version}, default parallel settings"
                if postgis
                else ""
            )
        )
        described = ", ".join(z["name"] + (f" (athlete {z['athlete_id']})" if z["athlete_id"] else "") for z in zones)
        print(
            f"zones: {described}; masked at radius + {dbt_var('privacy_margin_m'):g} m, "
            f"grid {grid:g} m, simplify {simplify:g} m\n"
        )
        header = (
            f"{'dataset':<11}{'activities':>11}{'GPS points':>12}{'engine':>9}{'best s':>9}{'points/s':>12}"
            f"{'routes':>8}{'vertices':>10}{'inside zones':>14}"
        )
        print(header)
        print("-" * len(header))
        for name, cols in datasets:
            n = duck.load_points(cols)
            activities = len(np.unique(cols["activity_id"]))
            if postgis:
                postgis.load(duck.zones, points_csv(duck.con, scratch / "points.csv"))
            # interleaved, so that a burst of load on the shared machine hits both engines alike
            d_times, p_times = [], []
            for _ in range(args.repeat):
                d_times.append(duck.mask())
                if postgis:
                    p_times.append(postgis.mask(grid, simplify))
            d_time = min(d_times)
            d_routes, d_vertices, d_inside = duck.result()
            print(
                f"{name:<11}{activities:>11,}{n:>12,}{'duckdb':>9}{d_time:>9.2f}{n / d_time:>12,.0f}"
                f"{d_routes:>8,}{d_vertices:>10,}{d_inside:>14,}"
            )
            if postgis:
                p_time = min(p_times)
                p_routes, p_vertices, p_inside = postgis.result()
                print(
                    f"{'':<11}{'':>11}{'':>12}{'postgis':>9}{p_time:>9.2f}{n / p_time:>12,.0f}"
                    f"{p_routes:>8,}{p_vertices:>10,}{p_inside:>14,}"
                )
                print(
                    f"{'':<11}ratio: DuckDB is {p_time / d_time:.2f}x the speed of PostGIS "
                    f"({'at least as fast' if d_time <= p_time else 'slower'})"
                )
            print()
    finally:
        if postgis:
            postgis.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
