"""Heatmap XYZ tiles (256 px PNG, web mercator) of the masked routes, rebuilt exactly and incrementally.

A pixel's value is the number of activities whose route passes through it (an activity counts once per pixel).
The per-tile inputs are kept in <data dir>/tile_inputs.sqlite: for every tile the count of every pixel, for
every activity the hash and the geometry it was drawn with. An update compares the mart's routes with that
state, takes away what removed or changed activities drew, adds what new or changed ones draw, and re-encodes
only the tiles whose counts changed. Counts are integers and a tile's PNG depends on its counts alone, so the
result is byte-identical to a full rebuild.
"""

import contextlib
import fcntl
import json
import math
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from strava_pipeline.config import UserError, strava_command, warehouse_path
from strava_pipeline.maps import settings
from strava_pipeline.maps.png import encode_palette
from strava_pipeline.maps.privacy import check_outside_zones, haversine_m
from strava_pipeline.maps.routes import RouteFilter, RouteSource, csv_zones, open_warehouse

TILE = settings.TILE_SIZE
_LOCAL_BITS = 16  # a pixel inside a tile: 256 x 256 = 2^16
_MAX_LAT = 85.0511287798066  # web mercator's edge


@dataclass
class TileResult:
    tiles_dir: Path
    mode: str  # "full", "incremental" or "unchanged"
    activities: int
    added: int = 0
    changed: int = 0
    removed: int = 0
    tiles_written: int = 0
    tiles_deleted: int = 0
    tiles_total: int = 0
    seconds: float = 0.0
    steps: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- drawing


def palette(saturation: int = settings.HEAT_SATURATION) -> np.ndarray:
    """RGBA per pixel value 0..saturation: transparent, then dark red through orange to pale yellow on a log
    scale of the number of activities."""
    stops = np.array(
        [[0.0, 178, 24, 43, 150], [0.35, 239, 59, 44, 205], [0.7, 253, 174, 97, 240], [1.0, 255, 255, 191, 255]]
    )
    counts = np.arange(1, saturation + 1)
    t = np.log(counts) / math.log(saturation) if saturation > 1 else np.ones(1)
    rgba = np.stack([np.interp(t, stops[:, 0], stops[:, k]) for k in range(1, 5)], axis=1)
    return np.vstack([[0, 0, 0, 0], np.round(rgba)]).astype(np.uint8)


_PALETTE = palette()


def world_px(geometry) -> list:
    """The parts of a route as (n, 2) float arrays of web mercator pixel coordinates at zoom 0 (0..256)."""
    out = []
    for part in shapely.get_parts(geometry):
        lng, lat = shapely.get_coordinates(part).T
        lat = np.clip(lat, -_MAX_LAT, _MAX_LAT)
        x = (lng + 180.0) / 360.0 * TILE
        s = np.sin(np.radians(lat))
        y = (0.5 - np.log((1 + s) / (1 - s)) / (4 * math.pi)) * TILE
        out.append(np.stack([x, y], axis=1))
    return out


def pixel_keys(parts: list, max_zoom: int) -> dict:
    """zoom -> sorted unique keys (tile id << 16 | pixel in tile) of the pixels a route passes through, tile id =
    y * 2^zoom + x, for zoom 0..max_zoom.

    The lines are sampled once at max_zoom, at least once per pixel step (a DDA line); a zoom below holds the
    pixels of those samples (pixel >> 1 per level), so every zoom shows a connected line, and the pixels of zoom
    z - 1 come from the (fewer) pixels of zoom z."""
    samples = []
    scale = float(1 << max_zoom)  # a power of two: exact, the same for every caller
    for xy in parts:
        p = xy * scale
        if len(p) < 2:
            continue
        a, d = p[:-1], np.diff(p, axis=0)
        steps = np.maximum(np.ceil(np.abs(d).max(axis=1)).astype(np.int64), 1)
        seg = np.repeat(np.arange(len(d)), steps)
        t = (np.arange(len(seg)) - np.repeat(np.cumsum(steps) - steps, steps)) / steps[seg]
        samples.append(a[seg] + d[seg] * t[:, None])
        samples.append(p[-1:])
    out = {}
    if not samples:
        return {z: np.empty(0, dtype=np.int64) for z in range(max_zoom + 1)}
    pts = np.floor(np.concatenate(samples)).astype(np.int64)
    np.clip(pts, 0, (TILE << max_zoom) - 1, out=pts)
    pixels = np.unique((pts[:, 1] << 32) | pts[:, 0])  # y << 32 | x
    for zoom in range(max_zoom, -1, -1):
        px, py = pixels & 0xFFFFFFFF, pixels >> 32
        tile = (py >> 8) * (1 << zoom) + (px >> 8)
        out[zoom] = np.sort((tile << _LOCAL_BITS) | ((py & 255) << 8) | (px & 255))
        if zoom:
            pixels = np.unique(((py >> 1) << 32) | (px >> 1))
    return out


def _tile_xy(tile_id: int, zoom: int) -> tuple:
    return tile_id % (1 << zoom), tile_id >> zoom


def render_tile(pixels: np.ndarray, counts: np.ndarray) -> bytes:
    """The PNG of one tile from its non-zero pixels (local index) and their counts."""
    image = np.zeros(TILE * TILE, dtype=np.uint8)
    image[pixels] = np.minimum(counts, settings.HEAT_SATURATION)
    return encode_palette(image.reshape(TILE, TILE), _PALETTE)


def tile_path(tiles_dir: Path, zoom: int, x: int, y: int) -> Path:
    return tiles_dir / str(zoom) / str(x) / f"{y}.png"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------------- state


def inputs_path(data_dir: Path) -> Path:
    return data_dir / settings.TILE_INPUTS_FILE


def fingerprint(max_zoom: int, public_only: bool) -> str:
    return json.dumps(
        {
            "version": settings.TILE_RENDER_VERSION,
            "max_zoom": max_zoom,
            "public_only": public_only,
            "saturation": settings.HEAT_SATURATION,
            "tile": TILE,
        },
        sort_keys=True,
    )


_SCHEMA = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists activities (activity_id integer primary key, hash text not null, wkb blob not null,
                                       min_lng real, min_lat real, max_lng real, max_lat real);
create table if not exists tiles (z integer not null, tile integer not null, pixels blob not null,
                                  counts blob not null, primary key (z, tile)) without rowid;
"""


def _open_state(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("pragma journal_mode = wal")
    con.execute("pragma synchronous = normal")
    con.executescript(_SCHEMA)
    return con


@contextlib.contextmanager
def _lock(data_dir: Path):
    """One tile update at a time per data dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / (settings.TILE_INPUTS_FILE + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sparse(blob_pixels: bytes, blob_counts: bytes) -> tuple:
    """A tile's stored inputs: its non-zero pixels (sorted, index in the tile) and their counts."""
    return np.frombuffer(blob_pixels, dtype=np.uint16), np.frombuffer(blob_counts, dtype=np.uint32)


# ----------------------------------------------------------------------------------------------- updates


def _accumulate(keys_list: list, weights_list: list) -> tuple:
    """Sum of +/-1 per key over many activities: (sorted unique keys, summed weights), zero sums dropped."""
    if not keys_list:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    keys = np.concatenate(keys_list)
    weights = np.concatenate([np.full(len(k), w, dtype=np.int64) for k, w in zip(keys_list, weights_list)])
    unique, inverse = np.unique(keys, return_inverse=True)
    summed = np.bincount(inverse, weights=weights, minlength=len(unique)).astype(np.int64)
    nonzero = summed != 0
    return unique[nonzero], summed[nonzero]


def _merge_running(running: tuple, batch: tuple) -> tuple:
    if not len(running[0]):
        return batch
    keys = np.concatenate([running[0], batch[0]])
    weights = np.concatenate([running[1], batch[1]])
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse, weights=weights, minlength=len(unique)).astype(np.int64)


def _zoom_deltas(old: list, new: list, max_zoom: int, batch: int = 256) -> dict:
    """zoom -> (keys, deltas): what the new geometries draw minus what the old ones drew, per pixel."""
    items = [(g, -1) for g in old] + [(g, 1) for g in new]
    running = {z: (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)) for z in range(max_zoom + 1)}
    for start in range(0, len(items), batch):
        part = items[start : start + batch]
        drawn = [pixel_keys(world_px(g), max_zoom) for g, _ in part]
        for zoom in range(max_zoom + 1):
            running[zoom] = _merge_running(running[zoom], _accumulate([d[zoom] for d in drawn], [w for _, w in part]))
    out = {}
    for zoom, (keys, delta) in running.items():
        nonzero = delta != 0
        out[zoom] = (keys[nonzero], delta[nonzero])
    return out


def _apply(
    con: sqlite3.Connection,
    tiles_dir: Path,
    deltas: dict,
    fresh: bool,
    rebuild: str = "uv run strava.py tiles --rebuild",
) -> tuple:
    """Adds the pixel deltas to the stored counts of the tiles they touch, re-encodes those tiles; returns
    (written, deleted). rebuild: the command that redraws this data dir's tiles from scratch, for the hint."""
    written = deleted = 0
    rows_put, rows_del = [], []
    for zoom, (keys, delta) in deltas.items():
        if not len(keys):
            continue
        tiles = keys >> _LOCAL_BITS
        bounds = np.flatnonzero(np.diff(tiles)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(keys)]])
        stored = {}
        if not fresh:
            ids = np.unique(tiles).tolist()
            for i in range(0, len(ids), 900):  # sqlite's limit on parameters
                part = ids[i : i + 900]
                stored.update(
                    {
                        t: _sparse(p, c)
                        for t, p, c in con.execute(
                            "select tile, pixels, counts from tiles where z = ?"
                            f" and tile in ({','.join('?' * len(part))})",
                            [zoom, *part],
                        )
                    }
                )
        for s, e in zip(starts.tolist(), ends.tolist()):
            tile_id = int(tiles[s])
            pixels, counts = keys[s:e] & 0xFFFF, delta[s:e]
            if tile_id in stored:
                old_pixels, old_counts = stored[tile_id]
                merged, where = np.unique(np.concatenate([old_pixels.astype(np.int64), pixels]), return_inverse=True)
                summed = np.bincount(where, weights=np.concatenate([old_counts.astype(np.int64), counts]))
                summed = np.rint(summed).astype(np.int64)  # sums of integers well below 2^53: exact
                pixels, counts = merged[summed != 0], summed[summed != 0]
            if (counts < 0).any():
                raise RuntimeError(
                    f"The tile inputs in {settings.TILE_INPUTS_FILE} are inconsistent (tile {zoom}/"
                    f"{_tile_xy(tile_id, zoom)}): run `{rebuild}`."
                )
            x, y = _tile_xy(tile_id, zoom)
            path = tile_path(tiles_dir, zoom, x, y)
            if len(pixels):
                _write_atomic(path, render_tile(pixels, counts))
                rows_put.append((zoom, tile_id, pixels.astype(np.uint16).tobytes(), counts.astype(np.uint32).tobytes()))
                written += 1
            else:
                path.unlink(missing_ok=True)
                for folder in (path.parent, path.parent.parent):
                    with contextlib.suppress(OSError):
                        folder.rmdir()  # only when empty
                rows_del.append((zoom, tile_id))
                deleted += 1
    con.executemany("insert or replace into tiles values (?, ?, ?, ?)", rows_put)
    con.executemany("delete from tiles where z = ? and tile = ?", rows_del)
    return written, deleted


def _clear_tiles(tiles_dir: Path) -> None:
    """Removes the tiles this module wrote ({z}/ folders, tiles.json); anything else in the folder stays."""
    if not tiles_dir.exists():
        return
    for child in tiles_dir.iterdir():
        if child.is_dir() and child.name.isdigit():
            shutil.rmtree(child)
    (tiles_dir / "tiles.json").unlink(missing_ok=True)


def regions(boxes: list, radius_m: float = 60_000.0, limit: int = 8) -> list:
    """Where the activities are: an activity (min_lng, min_lat, max_lng, max_lat) joins the first group whose
    first activity's centre is within radius_m of its own; the biggest groups first (the same grouping as the
    route map page does in the browser)."""
    groups: list = []
    for box in boxes:
        lng, lat = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        group = next((g for g in groups if haversine_m(g["lat"], g["lng"], lat, lng) < radius_m), None)
        if group is None:
            group = {"lat": lat, "lng": lng, "boxes": []}
            groups.append(group)
        group["boxes"].append(box)
    groups.sort(key=lambda g: -len(g["boxes"]))
    out = []
    for g in groups[:limit]:
        b = np.array(g["boxes"])
        out.append(
            {
                "activities": len(b),
                "centre": [round(g["lng"], 4), round(g["lat"], 4)],
                "bounds": [round(float(v), 6) for v in (*b[:, :2].min(axis=0), *b[:, 2:].max(axis=0))],
            }
        )
    return out


def _write_tilejson(con: sqlite3.Connection, tiles_dir: Path, max_zoom: int, public_only: bool) -> None:
    boxes = con.execute("select min_lng, min_lat, max_lng, max_lat from activities order by activity_id").fetchall()
    count = len(boxes)
    bounds = (
        [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
        if boxes
        else None
    )
    doc = {
        "tilejson": "3.0.0",
        "name": "Heatmap of the masked routes",
        "tiles": ["{z}/{x}/{y}.png"],
        "minzoom": 0,
        "maxzoom": max_zoom,
        "activities": count,
        "public_only": public_only,
        "bounds": [round(b, 6) for b in bounds] if bounds else None,
        "regions": regions(boxes),
    }
    data = (json.dumps(doc, indent=1) + "\n").encode()
    path = tiles_dir / "tiles.json"
    if not path.exists() or path.read_bytes() != data:
        tiles_dir.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, data)


def update_tiles(
    data_dir: Path,
    max_zoom: int = settings.DEFAULT_MAX_ZOOM,
    public_only: bool = False,
    rebuild: bool = False,
    tiles_dir: Path | None = None,
    lock_warehouse: bool = False,
) -> TileResult:
    """Brings <data dir>/tiles up to date with marts.activity_routes_masked: only the tiles of activities that
    were added, changed or deleted since the last run are re-rendered; a full rebuild when asked, on the first
    run, or when max_zoom, public_only or the drawing changed.

    The warehouse is read first and closed before anything is drawn. lock_warehouse: hold the data dir's writer
    lock (strava_pipeline.lock) while reading, so an import or dbt build waits instead of failing; off for a
    caller that holds it already (Dagster). For Dagster and scripts as for the CLI; raises UserError for a missing
    warehouse or mart."""
    if not 0 <= max_zoom <= settings.MAX_ZOOM_LIMIT:
        raise UserError(
            f"--max-zoom {max_zoom} is out of range: use 0 to {settings.MAX_ZOOM_LIMIT} "
            f"(default {settings.DEFAULT_MAX_ZOOM})."
        )
    started = time.perf_counter()
    tiles_dir = Path(tiles_dir) if tiles_dir else data_dir / settings.TILES_SUBDIR
    flt = RouteFilter(public_only=public_only)
    steps: dict = {}
    with _lock(data_dir):
        con = _open_state(inputs_path(data_dir))
        try:
            row = con.execute("select value from meta where key = 'fingerprint'").fetchone()
            full = rebuild or row is None or row[0] != fingerprint(max_zoom, public_only)
            stored = {} if full else dict(con.execute("select activity_id, hash from activities"))

            with open_warehouse(data_dir, lock=lock_warehouse) as wh:
                source = RouteSource(wh, warehouse_path(data_dir))
                current = source.hashes(flt)
                added = [i for i in current if i not in stored]
                removed = [i for i in stored if i not in current]
                changed = [i for i in current if i in stored and stored[i] != current[i]]
                new_wkb = source.geometries(sorted(added + changed))
                athlete_of = source.athletes(sorted(new_wkb))
                zones = (source.warehouse_zones(), csv_zones())
            steps["read"] = time.perf_counter() - started
            result = TileResult(
                tiles_dir, "full" if full else "incremental", len(current), len(added), len(changed), len(removed)
            )
            if not full and not (added or removed or changed):
                result.mode = "unchanged"
                _write_tilejson(con, tiles_dir, max_zoom, public_only)
                result.tiles_total = con.execute("select count(*) from tiles").fetchone()[0]
                result.seconds = time.perf_counter() - started
                return result

            ids_new = sorted(new_wkb)
            new = shapely.from_wkb([new_wkb[i] for i in ids_new]) if ids_new else np.empty(0, dtype=object)
            check_outside_zones(
                new,
                ids_new,
                *zones,
                dbt_build=strava_command(data_dir, "dbt", "build"),
                athletes=[athlete_of.get(i) for i in ids_new],
            )
            if full:
                con.execute("begin")
                con.execute("delete from activities")
                con.execute("delete from tiles")
                # without a fingerprint, a run cut short here is followed by another full rebuild
                con.execute("delete from meta where key = 'fingerprint'")
                con.execute("commit")
                _clear_tiles(tiles_dir)
            old = _stored_geometries(con, removed + changed)

            t = time.perf_counter()
            deltas = _zoom_deltas([old[i] for i in sorted(old)], list(new), max_zoom)
            steps["draw"] = time.perf_counter() - t

            t = time.perf_counter()
            con.execute("begin")
            result.tiles_written, result.tiles_deleted = _apply(
                con, tiles_dir, deltas, fresh=full, rebuild=strava_command(data_dir, "tiles", "--rebuild")
            )
            steps["tiles"] = time.perf_counter() - t
            con.executemany("delete from activities where activity_id = ?", [(i,) for i in removed + changed])
            bounds = shapely.bounds(new) if len(new) else np.empty((0, 4))
            con.executemany(
                "insert into activities values (?, ?, ?, ?, ?, ?, ?)",
                [(i, current[i], new_wkb[i], *map(float, b)) for i, b in zip(ids_new, bounds)],
            )
            con.execute("insert or replace into meta values ('fingerprint', ?)", [fingerprint(max_zoom, public_only)])
            _write_tilejson(con, tiles_dir, max_zoom, public_only)
            # the state is committed last: after a crash the next run redoes the same changes, to the same bytes
            con.execute("commit")
            result.tiles_total = con.execute("select count(*) from tiles").fetchone()[0]
        except BaseException:
            if con.in_transaction:
                con.execute("rollback")
            raise
        finally:
            con.close()
    result.seconds = time.perf_counter() - started
    result.steps = steps
    return result


def _stored_geometries(con: sqlite3.Connection, ids: Iterable[int]) -> dict:
    ids = list(ids)
    out = {}
    for i in range(0, len(ids), 900):
        part = ids[i : i + 900]
        for activity_id, wkb in con.execute(
            f"select activity_id, wkb from activities where activity_id in ({','.join('?' * len(part))})", part
        ):
            out[activity_id] = shapely.from_wkb(wkb)
    return out
