"""Last check before anything leaves the warehouse: no vertex or segment of a route within a privacy zone.

The dbt masking already cut the zones out (with a 25 m margin); this guards against a seed edited after the
last dbt build and against a masking bug, with the zones of both the warehouse and dbt_project/seeds. It applies the
masking's rule (dbt_project/macros/geo.sql, privacy_zone_applies): a zone that names an athlete guards that athlete's
routes, and those of an unknown athlete (0 or none); a zone without one guards every route."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from strava_pipeline.config import UserError
from strava_pipeline.maps import settings

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Violation:
    zone: str
    route_index: int  # index into the checked geometries
    distance_m: float


def haversine_m(lat1, lng1, lat2, lng2):
    """Great-circle distance in metres, like the dbt macro haversine_m (same Earth radius)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lng2) - np.asarray(lng1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _unit_vectors(lat, lng) -> np.ndarray:
    """Points on the unit sphere, (n, 3), from degrees."""
    phi, lmb = np.radians(lat), np.radians(lng)
    cos_phi = np.cos(phi)
    return np.stack([cos_phi * np.cos(lmb), cos_phi * np.sin(lmb), np.sin(phi)], axis=-1)


def segment_distance_m(lat, lng, a_lat, a_lng, b_lat, b_lng):
    """Great-circle distance in metres from a point to each great-circle segment a-b (arrays of segments).

    On the sphere of haversine_m, so it holds across the antimeridian and at the poles, where a flat frame around
    the point would not. The closest point is the foot of the perpendicular when it lies on the segment, else the
    nearer end."""
    p = _unit_vectors(lat, lng)
    a, b = _unit_vectors(a_lat, a_lng), _unit_vectors(b_lat, b_lng)
    ends = np.minimum(haversine_m(lat, lng, a_lat, a_lng), haversine_m(lat, lng, b_lat, b_lng))
    normal = np.cross(a, b)
    length = np.linalg.norm(normal, axis=-1)
    ok = length > 1e-15  # a zero-length (or antipodal) segment: its ends say it all
    normal = normal / np.where(ok, length, 1.0)[..., None]
    sin_cross = normal @ p
    foot = p - sin_cross[..., None] * normal  # the point's projection on the segment's great circle
    on_segment = (
        ok
        & (np.einsum("ij,ij->i", np.cross(a, foot), normal) >= 0)
        & (np.einsum("ij,ij->i", np.cross(foot, b), normal) >= 0)
    )
    across = EARTH_RADIUS_M * np.arcsin(np.minimum(np.abs(sin_cross), 1.0))
    return np.where(on_segment, np.minimum(across, ends), ends)


def _athlete_ids(athletes, count: int) -> np.ndarray | None:
    """The routes' athlete ids as int64, 0 for an unknown one; None (every zone guards every route) when not given
    one per route."""
    if athletes is None or len(athletes) != count:
        return None
    return np.array([int(a) if a else 0 for a in athletes], dtype=np.int64)


def violations(geometries, zones: Sequence, slack_m: float = 0.0, athletes: Sequence | None = None) -> list:
    """Routes (index) that come closer than radius_m + slack_m to a zone that guards them: at a vertex or along a
    segment (both on the sphere: exact across the antimeridian and near the poles).
    slack_m covers what the writer still moves a point by (the quantization of TopoJSON). athletes: the athlete id
    of each route (None or 0: unknown); a zone with an athlete_id guards that athlete's routes and the unknown
    ones. Without athletes every zone guards every route."""
    geometries = np.asarray(geometries, dtype=object)
    if not len(geometries) or not zones:
        return []
    athlete_of_route = _athlete_ids(athletes, len(geometries))
    parts, owner = shapely.get_parts(geometries, return_index=True)
    coords, part_of = shapely.get_coordinates(parts, return_index=True)
    if not len(coords):
        return []
    lng, lat = coords[:, 0], coords[:, 1]
    same_part = part_of[1:] == part_of[:-1]
    found = []
    seg = np.flatnonzero(same_part)
    for zone in zones:
        limit = zone.radius_m + slack_m
        dist = haversine_m(zone.lat, zone.lon, lat, lng)
        if len(seg):
            along = segment_distance_m(zone.lat, zone.lon, lat[seg], lng[seg], lat[seg + 1], lng[seg + 1])
            np.minimum.at(dist, seg, along)
        close = dist < limit
        if athlete_of_route is not None and zone.athlete_id is not None:
            guarded = (athlete_of_route == int(zone.athlete_id)) | (athlete_of_route == 0)
            close &= guarded[owner[part_of]]
        if close.any():
            by_route: dict = {}
            for point in np.flatnonzero(close):
                route = int(owner[part_of[point]])
                by_route[route] = min(by_route.get(route, np.inf), float(dist[point]))
            found += [Violation(zone.name, r, d) for r, d in sorted(by_route.items())]
    return found


def check_outside_zones(
    geometries,
    ids,
    warehouse_zones: Sequence,
    seed_zones: Sequence,
    slack_m: float = settings.QUANTUM_M,
    dbt_build: str = "uv run strava.py dbt build",
    athletes: Sequence | None = None,
) -> None:
    """Raises unless every route keeps clear of every zone of the warehouse and of the seed file that guards it.
    dbt_build: the command that rebuilds the masked routes of this data dir (config.strava_command); athletes: the
    athlete id of each route, as in violations (None: every zone guards every route)."""
    # the warehouse's zones first: the mart was masked with them, so a route too close to one is a masking bug
    for source, zones in (("the warehouse", warehouse_zones), ("seeds/privacy_zones.csv", seed_zones)):
        found = violations(geometries, zones, slack_m, athletes)
        if not found:
            continue
        v = found[0]
        what = (
            f"{len(found)} route(s), e.g. activity {ids[v.route_index]}, come within {v.distance_m:.0f} m of "
            f"privacy zone {v.zone!r} of {source}"
        )
        if source.startswith("seeds"):
            # the seed changed since the masked mart was built: the fix is a dbt build
            raise UserError(
                f"{what}: the masked routes are older than the privacy zones, run `{dbt_build}` and export again."
            )
        raise RuntimeError(
            f"{what}, although the masking should have removed them: nothing was written; "
            "check int_activity_tracks__masked."
        )
