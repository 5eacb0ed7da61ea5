"""TopoJSON, GeoJSON and GPX files of the masked routes, written in bounded chunks.

Every route carries its properties id, name, date (local start day), sport and distance_km.

TopoJSON: each route part is one arc, quantized on a fixed grid of QUANTUM_M metres (one transform for the whole
file, so chunks can be written one after the other) and delta-encoded. The encoder is numpy rather than
topojson.Topology, which (a) removes "spikes" while quantizing, deleting the far end of an out-and-back spur (a
run to a turnaround and back the same way loses the turnaround), (b) searches shared arcs, which GPS tracks do
not have (the search made the file bigger) and (c) needs about 1 GB per million points. The topojson library
and topojson-client read the files back (tests, the map page).
"""

import json
import math
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape

import numpy as np
import shapely

from strava_pipeline.config import UserError, strava_command, warehouse_path
from strava_pipeline.maps import settings
from strava_pipeline.maps.privacy import check_outside_zones
from strava_pipeline.maps.routes import RouteChunk, RouteFilter, RouteSource, csv_zones, open_warehouse

OBJECT_NAME = "routes"


@dataclass
class ExportResult:
    path: Path
    format: str
    routes: int
    points: int
    size_bytes: int
    seconds: float


def grid_transform(bbox: tuple, quantum_m: float = settings.QUANTUM_M) -> dict:
    """A TopoJSON transform whose cells are at most quantum_m metres wide and tall anywhere in bbox."""
    min_lng, min_lat, max_lng, max_lat = bbox
    # a degree of longitude is longest nearest the equator
    widest_lat = 0.0 if min_lat <= 0 <= max_lat else min(abs(min_lat), abs(max_lat))
    kx = quantum_m / (settings.M_PER_DEG_LNG_EQUATOR * math.cos(math.radians(widest_lat)))
    ky = quantum_m / settings.M_PER_DEG_LAT_MAX
    return {"scale": [kx, ky], "translate": [min_lng, min_lat]}


def properties(chunk: RouteChunk, i: int) -> dict:
    distance = chunk.distance_km[i]
    return {
        "id": int(chunk.ids[i]),
        "name": chunk.names[i],
        "date": chunk.days[i],
        "sport": chunk.sports[i],
        "distance_km": None if distance is None else round(float(distance), 2),
    }


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ----------------------------------------------------------------------------------------------- TopoJSON


class TopoJSONWriter:
    """Streams a Topology with one GeometryCollection of MultiLineStrings: header and arcs as chunks arrive,
    the (small) geometry objects at the end."""

    def __init__(self, out: TextIO, bbox: tuple | None, quantum_m: float = settings.QUANTUM_M) -> None:
        self.out = out
        self.transform = grid_transform(bbox, quantum_m) if bbox else None
        self.arcs = 0
        self.points = 0
        self.objects: list = []
        head = {"type": "Topology"}
        if bbox:
            head["bbox"] = [float(v) for v in bbox]
            head["transform"] = self.transform
        out.write(_json(head)[:-1] + ',"arcs":[')

    def add(self, chunk: RouteChunk) -> None:
        parts, owner = shapely.get_parts(chunk.geometries, return_index=True)
        coords, part_of = shapely.get_coordinates(parts, return_index=True)
        arcs_of_route: list = [[] for _ in range(len(chunk))]
        if len(coords):
            scale = np.asarray(self.transform["scale"])
            translate = np.asarray(self.transform["translate"])
            q = np.round((coords - translate) / scale).astype(np.int64)
            # a point on the same cell as the one before adds nothing
            repeat = np.zeros(len(q), dtype=bool)
            repeat[1:] = (part_of[1:] == part_of[:-1]) & (q[1:] == q[:-1]).all(axis=1)
            q, part_of = q[~repeat], part_of[~repeat]
            counts = np.bincount(part_of, minlength=len(parts))
            # a part shorter than a cell is dropped (it is not a line on this grid)
            kept = counts >= 2
            keep_point = kept[part_of]
            q, part_of = q[keep_point], part_of[keep_point]
            counts = counts[kept]
            starts = np.cumsum(counts) - counts
            delta = np.diff(q, axis=0, prepend=q[:1])
            delta[starts] = q[starts]
            flat = delta.tolist()
            arcs = [flat[s : s + n] for s, n in zip(starts.tolist(), counts.tolist())]
            if arcs:
                self.out.write(("," if self.arcs else "") + _json(arcs)[1:-1])
            for k, route in enumerate(owner[kept].tolist()):
                arcs_of_route[route].append([self.arcs + k])
            self.arcs += len(arcs)
            self.points += len(q)
        for i, arcs_list in enumerate(arcs_of_route):
            self.objects.append(
                '{"type":"MultiLineString","arcs":%s,"properties":%s}' % (_json(arcs_list), _json(properties(chunk, i)))
            )

    def close(self) -> None:
        self.out.write('],"objects":{"%s":{"type":"GeometryCollection","geometries":[' % OBJECT_NAME)
        for i, obj in enumerate(self.objects):
            self.out.write(("," if i else "") + obj)
        self.out.write("]}}}")


# ------------------------------------------------------------------------------------------------ GeoJSON


class GeoJSONWriter:
    """A FeatureCollection (RFC 7946) of MultiLineStrings, coordinates as stored in the mart (no rounding)."""

    def __init__(self, out: TextIO, bbox: tuple | None) -> None:
        self.out, self.features, self.points = out, 0, 0
        out.write(
            '{"type":"FeatureCollection",'
            + (f'"bbox":{_json([float(v) for v in bbox])},' if bbox else "")
            + '"features":['
        )

    def add(self, chunk: RouteChunk) -> None:
        geometries = shapely.to_geojson(chunk.geometries)
        self.points += chunk.points
        for i, geometry in enumerate(geometries.tolist()):
            self.out.write(
                ("," if self.features else "")
                + '{"type":"Feature","properties":%s,"geometry":%s}' % (_json(properties(chunk, i)), geometry)
            )
            self.features += 1

    def close(self) -> None:
        self.out.write("]}")


# ---------------------------------------------------------------------------------------------------- GPX


class GPXWriter:
    """GPX 1.1: one track per route, one segment per part; the date and distance in the description. Masked
    routes have no timestamps per point."""

    def __init__(self, out: TextIO, bbox: tuple | None) -> None:
        self.out, self.points = out, 0
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gpx version="1.1" creator="strava-datastack (privacy-masked routes)" '
            'xmlns="http://www.topografix.com/GPX/1/1">\n'
        )
        if bbox:
            out.write(
                '<metadata><name>Masked routes</name><bounds minlat="%.7f" minlon="%.7f" maxlat="%.7f" '
                'maxlon="%.7f"/></metadata>\n' % (bbox[1], bbox[0], bbox[3], bbox[2])
            )

    def add(self, chunk: RouteChunk) -> None:
        for i, geometry in enumerate(chunk.geometries):
            p = properties(chunk, i)
            desc = p["date"] + (f", {p['distance_km']} km" if p["distance_km"] is not None else "")
            lines = [
                f"<trk><name>{escape(p['name'])}</name><desc>{escape(desc)}</desc>"
                f"<number>{p['id']}</number><type>{escape(p['sport'])}</type>"
            ]
            for part in shapely.get_parts(geometry):
                xy = shapely.get_coordinates(part)
                self.points += len(xy)
                lines.append(
                    "<trkseg>"
                    + "".join('<trkpt lat="%.7f" lon="%.7f"/>' % (y, x) for x, y in xy.tolist())
                    + "</trkseg>"
                )
            lines.append("</trk>\n")
            self.out.write("".join(lines))

    def close(self) -> None:
        self.out.write("</gpx>\n")


WRITERS = {"topojson": TopoJSONWriter, "geojson": GeoJSONWriter, "gpx": GPXWriter}


# ------------------------------------------------------------------------------------------------ exports


def write_routes(
    source: RouteSource,
    flt: RouteFilter,
    fmt: str,
    out: TextIO,
    quantum_m: float = settings.QUANTUM_M,
    zones: tuple | None = None,
) -> tuple:
    """Writes the matching routes to an open text file; returns (routes, points). Every chunk passes the privacy
    check before any of it is written."""
    warehouse_zones, seed_zones = zones if zones is not None else (source.warehouse_zones(), csv_zones())
    bbox = source.bbox(flt)
    writer = TopoJSONWriter(out, bbox, quantum_m) if fmt == "topojson" else WRITERS[fmt](out, bbox)
    routes = 0
    for chunk in source.chunks(flt):
        check_outside_zones(
            chunk.geometries,
            chunk.ids,
            warehouse_zones,
            seed_zones,
            slack_m=quantum_m if fmt == "topojson" else 0.01,
            dbt_build=strava_command(source.warehouse.parent, "dbt", "build"),
            athletes=chunk.athletes or None,
        )
        writer.add(chunk)
        routes += len(chunk)
    writer.close()
    return routes, writer.points


def default_path(data_dir: Path, fmt: str) -> Path:
    return data_dir / settings.EXPORTS_SUBDIR / f"{settings.EXPORT_STEM}.{settings.FORMATS[fmt]}"


def export_routes(
    data_dir: Path,
    fmt: str = "topojson",
    sports: Iterable[str] = (),
    since: date | None = None,
    until: date | None = None,
    public_only: bool = False,
    output: Path | None = None,
    quantum_m: float = settings.QUANTUM_M,
    allow_empty: bool = True,
    lock_warehouse: bool = False,
) -> ExportResult:
    """Writes <data dir>/exports/routes.<fmt> (or `output`) from marts.activity_routes_masked, atomically.

    For Dagster and scripts as for the CLI. Raises UserError when the warehouse or the mart is missing, and, with
    allow_empty=False, when a filter matches no route. lock_warehouse: hold the writer lock while reading (see
    routes.open_warehouse); off for a caller that holds it already."""
    if fmt not in settings.FORMATS:
        raise UserError(f"Unknown export format {fmt!r}: use one of {', '.join(settings.FORMATS)}.")
    flt = RouteFilter(tuple(sports), since, until, public_only)
    path = Path(output) if output else default_path(data_dir, fmt)
    started = time.perf_counter()
    with open_warehouse(data_dir, lock=lock_warehouse) as con:
        source = RouteSource(con, warehouse_path(data_dir))
        if not allow_empty and flt != RouteFilter() and source.count(flt) == 0:
            known = source.sports()
            hint = f"sports with routes: {', '.join(known)}" if known else "the mart has no routes yet"
            raise UserError(f"No masked route matches {flt.describe()} ({hint}): change the filter.")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as out:
                routes, points = write_routes(source, flt, fmt, out, quantum_m)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return ExportResult(path, fmt, routes, points, path.stat().st_size, time.perf_counter() - started)
