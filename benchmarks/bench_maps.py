"""Maps in one run: TopoJSON vs GeoJSON size, export time and peak memory per million points, and the heatmap's
full render vs the incremental update after one new activity.

Run: uv run python benchmarks/bench_maps.py [--data-dir data/demo] [--points 1000000] [--repeat 5]

  sizes      the demo athlete's masked routes (marts.activity_routes_masked of --data-dir, default data/demo;
             a generated athlete of the same size when it is not built) and a generated set of >= --points
             vertices: TopoJSON / GeoJSON of `strava.py export` (target <= 0.25). For context also against a
             GeoJSON rounded to 6 decimals, and the seed's way (topojson.Topology(prequantize=1e6) of the same
             routes in one call).
  export     each format of `export_routes` on the generated set, in a fresh process: seconds and peak memory
             (ru_maxrss, and its growth over the process after imports) per million points; the seed's way too.
  heatmap    on a copy of the warehouse: `update_tiles` from scratch (zoom 0-16, twice), then one new activity
             added to the mart and `update_tiles` again, --repeat times: the ratio of the best times (target
             >= 50x), and of the medians.
"""

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from strava_pipeline.maps import settings  # noqa: E402
from strava_pipeline.maps.export import export_routes  # noqa: E402
from strava_pipeline.maps.privacy import violations  # noqa: E402
from strava_pipeline.maps.routes import Zone, join_parts  # noqa: E402
from strava_pipeline.maps.synthetic import DEFAULT_ZONES, generate_routes, write_warehouse  # noqa: E402
from strava_pipeline.maps.tiles import update_tiles  # noqa: E402

CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import duckdb, numpy, shapely, topojson
from strava_pipeline.maps import settings
settings.ZONES_CSV = Path(sys.argv[5])
from strava_pipeline.maps.export import export_routes
from strava_pipeline.maps.routes import RouteFilter, RouteSource, open_warehouse
data_dir, fmt, out = Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])


def peak_kb():
    # VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak over the fork
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])


base = peak_kb()
started = time.perf_counter()
if fmt == "seed":
    # the seed's way: every route in one topojson.Topology call, quantized on 1e6 steps of the bounding box
    with open_warehouse(data_dir) as con:
        source = RouteSource(con, data_dir / "strava.duckdb")
        records, points = {}, 0
        for chunk in source.chunks(RouteFilter(), max_points=10**9):
            for i, g in enumerate(chunk.geometries):
                records[int(chunk.ids[i])] = {"geometry": g, "name": chunk.names[i], "date": chunk.days[i],
                                              "sport": chunk.sports[i], "distance_km": chunk.distance_km[i]}
            points += chunk.points
    topo = topojson.Topology(records, prequantize=1e6, object_name="routes")
    topo.to_json(out)
    cell = topo.output["transform"]["scale"]
else:
    cell = None
    points = export_routes(data_dir, fmt, output=out).points
seconds = time.perf_counter() - started
peak = peak_kb()
print(json.dumps({"seconds": seconds, "peak_kb": peak, "base_kb": base, "points": points,
                  "bytes": out.stat().st_size, "cell_deg": cell}))
"""


def say(line: str = "") -> None:
    print(line, flush=True)


def zones_csv(folder: Path, zones) -> Path:
    path = folder / "privacy_zones.csv"
    path.write_text("name,lat,lon,radius_m\n" + "".join(f"{z.name},{z.lat},{z.lon},{z.radius_m}\n" for z in zones))
    return path


def demo_warehouse(data_dir: Path, work: Path):
    """A copy of the built demo warehouse and its zones, or a generated athlete of the demo's size."""
    warehouse = data_dir / "strava.duckdb"
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            con.sql("select 1 from marts.activity_routes_masked limit 1").fetchall()
            zones = [
                Zone(*row) for row in con.sql("select name, lat, lon, radius_m from seeds.privacy_zones").fetchall()
            ]
        target = work / "demo"
        target.mkdir()
        shutil.copy(warehouse, target / "strava.duckdb")
        return target, zones, f"the demo athlete ({warehouse})"
    except (duckdb.Error, OSError) as exc:
        target = work / "demo"
        write_warehouse(target / "strava.duckdb", generate_routes(445, seed=5))
        return (
            target,
            list(DEFAULT_ZONES),
            (f"a generated athlete of 445 routes ({warehouse} has no masked routes: {str(exc).splitlines()[0][:80]})"),
        )


def sizes(label: str, data_dir: Path, zones_file: Path, out: Path) -> float:
    settings.ZONES_CSV = zones_file  # the zones the warehouse was masked with
    topo = export_routes(data_dir, "topojson", output=out / "routes.topojson")
    geo = export_routes(data_dir, "geojson", output=out / "routes.geojson")
    doc = json.loads((out / "routes.geojson").read_text())
    for feature in doc["features"]:
        feature["geometry"]["coordinates"] = [
            [[round(x, 6), round(y, 6)] for x, y in line] for line in feature["geometry"]["coordinates"]
        ]
    six = len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode())
    seed = child(data_dir, "seed", out / "seed.topojson", zones_file)
    ratio = topo.size_bytes / geo.size_bytes
    say(f"{label}: {topo.routes:,} routes, {topo.points:,} points")
    say(
        f"  TopoJSON {topo.size_bytes:,} B / GeoJSON {geo.size_bytes:,} B = {ratio:.3f}   (target <= 0.25) "
        f"[{settings.QUANTUM_M} m grid]"
    )
    lat = (doc["bbox"][1] + doc["bbox"][3]) / 2
    kx, ky = seed["cell_deg"]
    cell = f"{kx * 111_320 * math.cos(math.radians(lat)):.2g} x {ky * 111_132:.2g} m"
    say(
        f"  context: / GeoJSON rounded to 6 decimals ({six:,} B) = {topo.size_bytes / six:.3f}; "
        f"the seed's topojson.Topology(prequantize=1e6): {seed['bytes']:,} B = {seed['bytes'] / geo.size_bytes:.3f} "
        f"(its cells: {cell}, from the bounding box)"
    )
    return ratio


def child(data_dir: Path, fmt: str, out: Path, zones_file: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), str(data_dir), fmt, str(out), str(zones_file)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def export_costs(data_dir: Path, zones_file: Path, out: Path) -> None:
    say("export per million points (fresh process each; peak RSS, and its growth after the imports):")
    for fmt in ("topojson", "geojson", "gpx", "seed"):
        r = child(data_dir, fmt, out / f"x.{fmt}", zones_file)
        per = 1e6 / r["points"]
        name = "seed: topojson.Topology(1e6), one call" if fmt == "seed" else f"export --format {fmt}"
        say(
            f"  {name:40s} {r['seconds'] * per:6.2f} s/M points   peak {r['peak_kb'] / 1024:6.0f} MB "
            f"(+{(r['peak_kb'] - r['base_kb']) / 1024:5.0f} MB over {r['base_kb'] / 1024:.0f} MB after imports; "
            f"{r['points']:,} points, {r['bytes'] / 1e6:.1f} MB)"
        )


def new_activities(zones, count: int) -> list:
    """Routes near Ljubljana that keep clear of the zones (what the masking would publish)."""
    out = []
    for route in generate_routes(count * 4, seed=1234, first_id=90_000_000_000, length_km=(15.0, 30.0)):
        if not violations([route.geometry], zones, slack_m=settings.QUANTUM_M) and route.sport_type == "Ride":
            out.append(route)
        if len(out) == count:
            return out
    raise RuntimeError("could not generate new activities outside the privacy zones")


def heatmap(data_dir: Path, zones, repeat: int) -> float:
    """Best of 2 full renders (each into empty folders, like a first run) and of `repeat` incremental updates."""
    fulls = []
    for attempt in range(2):
        tiles_dir = data_dir / f"tiles-{attempt}"
        started = time.perf_counter()
        full = update_tiles(data_dir, rebuild=True, tiles_dir=tiles_dir)
        fulls.append(time.perf_counter() - started)
        say(
            f"heatmap full render: {full.activities:,} activities, {full.tiles_total:,} tiles (zoom 0-16) in "
            f"{fulls[-1]:.2f} s (read {full.steps['read']:.2f} s, draw {full.steps['draw']:.1f} s, "
            f"encode+write {full.steps['tiles']:.1f} s)"
        )
    times = []
    with duckdb.connect(str(data_dir / "strava.duckdb")) as con:
        template = con.sql("select activity_id from marts.activity_routes_masked limit 1").fetchone()[0]
    for route in new_activities(zones, repeat):
        with duckdb.connect(str(data_dir / "strava.duckdb")) as con:
            con.execute(
                "insert into marts.activity_routes_masked select * replace (? as activity_id, "
                "?::geometry as route_geom) from marts.activity_routes_masked where activity_id = ?",
                [route.activity_id, shapely.to_wkt(route.geometry, rounding_precision=-1), template],
            )
            con.execute("checkpoint")
        started = time.perf_counter()
        r = update_tiles(data_dir, tiles_dir=tiles_dir)
        times.append(time.perf_counter() - started)
        assert r.mode == "incremental" and r.added == 1, r
        say(
            f"  + 1 new activity ({shapely.get_num_coordinates(route.geometry)} points): {r.tiles_written} tiles "
            f"drawn in {times[-1] * 1000:.0f} ms (read {r.steps['read'] * 1000:.0f}, draw "
            f"{r.steps['draw'] * 1000:.0f}, encode+write {r.steps['tiles'] * 1000:.0f} ms)"
        )
    ratio = min(fulls) / min(times)
    say(
        f"  full / incremental, best of {len(fulls)} and of {len(times)} (the machine is shared and noisy): "
        f"{min(fulls):.2f} s / {min(times) * 1000:.0f} ms = {ratio:.0f}x   (target >= 50x); medians: "
        f"{statistics.median(fulls):.2f} s / {statistics.median(times) * 1000:.0f} ms = "
        f"{statistics.median(fulls) / statistics.median(times):.0f}x"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT / "data" / "demo"), help="warehouse of the demo athlete")
    parser.add_argument("--points", type=int, default=1_000_000, help="vertices of the generated set")
    parser.add_argument("--repeat", type=int, default=5, help="new activities for the incremental update")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-maps-"))
    try:
        demo, zones, label = demo_warehouse(Path(args.data_dir), work)
        zones_file = zones_csv(work, zones)
        say(f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}")
        say()
        ratios = {"TopoJSON/GeoJSON, demo": sizes(label, demo, zones_file, work)}

        started = time.perf_counter()
        routes, points = [], 0
        while points < args.points:
            batch = generate_routes(500, seed=100 + len(routes) // 500, first_id=20_000_000_000 + len(routes) * 1000)
            routes += batch
            # the points as exported: parts that continue each other are joined (one shared point less)
            points += int(shapely.get_num_coordinates(join_parts([r.geometry for r in batch])).sum())
        big = work / "big"
        write_warehouse(big / "strava.duckdb", routes)
        count = len(routes)
        del routes  # 8,000 routes of shapely objects would slow every later garbage collection
        say()
        say(f"(generated {count:,} masked routes, {points:,} points in {time.perf_counter() - started:.0f} s)")
        ratios["TopoJSON/GeoJSON, generated"] = sizes("generated set", big, zones_csv(big, DEFAULT_ZONES), work)
        say()
        export_costs(big, zones_csv(big, DEFAULT_ZONES), work)
        say()
        settings.ZONES_CSV = zones_file
        ratios["heatmap full/incremental"] = heatmap(demo, zones, args.repeat)
        say()
        say("ratios: " + "; ".join(f"{k} {v:.3f}" if v < 10 else f"{k} {v:.0f}x" for k, v in ratios.items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
