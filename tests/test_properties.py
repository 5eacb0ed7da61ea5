"""Property-based tests (hypothesis): the privacy guard against an independent distance, the masking's margin, the
rate-limit budget under random headers and clocks, the track parsers on damaged real files, the TopoJSON round trip.

Example counts are modest (the whole suite must stay well under 15 minutes on 2 cores); `--hypothesis-seed` replays
a failure, and hypothesis prints the smallest example it found."""

import contextlib
import json
import math
import signal
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, example, given, note, settings
from hypothesis import strategies as st

from strava_pipeline.api.ratelimit import Budget, BudgetStop
from strava_pipeline.clock import FakeClock
from strava_pipeline.maps import synthetic
from strava_pipeline.maps.privacy import EARTH_RADIUS_M, haversine_m, violations
from strava_pipeline.maps.routes import Zone
from tests.conftest import REFERENCE

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------------------ geometry helpers


def destination(lat: float, lng: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """The point distance_m from (lat, lng) along bearing_deg on the sphere (the standard direct formula)."""
    phi, lmb, theta = math.radians(lat), math.radians(lng), math.radians(bearing_deg)
    delta = distance_m / EARTH_RADIUS_M
    phi2 = math.asin(
        max(-1.0, min(1.0, math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)))
    )
    lmb2 = lmb + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi), math.cos(delta) - math.sin(phi) * math.sin(phi2)
    )
    return math.degrees(phi2), (math.degrees(lmb2) + 540.0) % 360.0 - 180.0


def true_min_distance_m(track: list, zone: Zone) -> tuple[float, float]:
    """Closest approach of a track to a zone centre, measured independently of maps.privacy: each segment is sampled
    along its great circle (slerp of unit vectors) and every sample measured with the haversine. Returns (distance,
    worst sampling error: half the spacing of the samples)."""
    best, error = math.inf, 0.0
    pts = np.radians(np.asarray(track, dtype=float))
    unit = np.stack(
        [np.cos(pts[:, 0]) * np.cos(pts[:, 1]), np.cos(pts[:, 0]) * np.sin(pts[:, 1]), np.sin(pts[:, 0])], axis=1
    )
    for a, b in zip(unit[:-1], unit[1:]):
        omega = math.acos(max(-1.0, min(1.0, float(a @ b))))
        length = omega * EARTH_RADIUS_M
        n = max(2, min(20_000, math.ceil(length / max(zone.radius_m / 200.0, 0.05)) + 1))
        t = np.linspace(0.0, 1.0, n)[:, None]
        if omega < 1e-12:
            samples = np.repeat(a[None, :], 2, axis=0)
        else:
            samples = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / math.sin(omega)
        lat = np.degrees(np.arcsin(np.clip(samples[:, 2], -1, 1)))
        lng = np.degrees(np.arctan2(samples[:, 1], samples[:, 0]))
        best = min(best, float(haversine_m(zone.lat, zone.lon, lat, lng).min()))
        error = max(error, length / (n - 1) / 2)
    if len(track) == 1:
        best = float(haversine_m(zone.lat, zone.lon, track[0][0], track[0][1]))
    return best, error


RADII = st.one_of(st.floats(1.0, 25.0), st.floats(100.0, 2_000.0), st.just(50_000.0), st.floats(20_000.0, 50_000.0))
ZONE_LATS = st.one_of(st.floats(-80.0, 80.0), st.floats(89.0, 89.999), st.floats(-89.999, -89.0))
ZONE_LNGS = st.one_of(
    st.floats(-179.0, 179.0), st.floats(179.0, 179.99999), st.floats(-180.0, -179.0), st.sampled_from([180.0, -180.0])
)


@st.composite
def zone_and_track(draw):
    """A zone (near the poles, on the antimeridian, tiny or 50 km) and a track that wanders around it: it may start
    inside, cross it, pass just outside, or stay far; some vertices sit exactly on the centre (a zone on the track)."""
    zone = Zone("z", draw(ZONE_LATS), draw(ZONE_LNGS), draw(RADII))
    r = zone.radius_m
    lat, lng = destination(zone.lat, zone.lon, draw(st.floats(0, 360)), draw(st.floats(0, 3 * r)))
    track = [(lat, lng)]
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.integers(0, 9)) == 0:
            track.append((zone.lat, zone.lon))  # straight through the centre
            continue
        step = draw(st.one_of(st.floats(0.0, 2.5 * r), st.floats(0.0, 5.0)))
        track.append(destination(*track[-1], draw(st.floats(0, 360)), step))
    return zone, track


def _route(track: list) -> shapely.MultiLineString:
    coords = [(lng, lat) for lat, lng in track]
    if len(coords) == 1:
        coords = coords * 2
    return shapely.MultiLineString([coords])


@FAST
@given(zone_and_track())
# a segment across the antimeridian, right through a zone on it; both ends 2.2 km away
@example((Zone("dateline", 0.0, 180.0, 1000.0), [(0.0, 179.98), (0.0, -179.98)]))
# a segment over the pole, 5.5 km from a zone's centre; both ends 40 km away
@example((Zone("pole", 89.95, 0.0, 20_000.0), [(89.6, -90.0), (89.6, 90.0)]))
# a tiny zone on the track
@example((Zone("tiny", 46.0, 14.5, 1.0), [(45.99999, 14.5), (46.00001, 14.5)]))
def test_the_guard_finds_exactly_the_routes_that_enter_a_zone(case):
    zone, track = case
    # the antimeridian is where a route's line is ambiguous: a GeoJSON segment from 179.99 to -179.99 is drawn the
    # short way by web maps, and the guard measures it that way (on the great circle)
    distance, sampling = true_min_distance_m(track, zone)
    note(f"true distance {distance:.3f} m (sampling error <= {sampling:.3f} m), radius {zone.radius_m:.3f} m")
    found = violations([_route(track)], [zone])
    tolerance = 1e-6 * zone.radius_m + 1e-3  # float rounding on the unit sphere
    if distance + sampling < zone.radius_m - tolerance:
        assert found, "a route inside the zone was not flagged"
    if distance - sampling > zone.radius_m + tolerance:
        assert not found, f"a route outside the zone was flagged at {found[0].distance_m:.3f} m"
    if found:
        assert found[0].distance_m >= distance - sampling - tolerance


@FAST
@given(zone_and_track(), st.lists(st.tuples(ZONE_LATS, ZONE_LNGS, RADII), max_size=3))
def test_overlapping_zones_each_report_their_own_violations(case, others):
    zone, track = case
    zones = [zone] + [Zone(f"o{i}", la, lo, r) for i, (la, lo, r) in enumerate(others)]
    together = {(v.zone, v.route_index) for v in violations([_route(track)], zones)}
    alone = {(v.zone, v.route_index) for z in zones for v in violations([_route(track)], [z])}
    assert together == alone


@st.composite
def masked_case(draw):
    """Zones around Ljubljana (overlapping, tiny to 5 km) and a GPS-like track in metres that may touch them."""
    zones = []
    for i in range(draw(st.integers(1, 4))):
        x, y = draw(st.floats(-3000, 3000)), draw(st.floats(-3000, 3000))
        lng, lat = synthetic.to_wgs84(x, y)
        zones.append(Zone(f"z{i}", float(lat), float(lng), draw(st.one_of(st.floats(1.0, 30.0), st.floats(50, 5000)))))
    n = draw(st.integers(2, 400))
    heading = draw(st.floats(0, 2 * math.pi)) + np.cumsum(draw(st.lists(st.floats(-0.6, 0.6), min_size=n, max_size=n)))
    step = draw(st.floats(1.0, 40.0))
    start = np.array([draw(st.floats(-4000, 4000)), draw(st.floats(-4000, 4000))])
    xy = start + np.cumsum(np.stack([np.cos(heading), np.sin(heading)], axis=1) * step, axis=0)
    return zones, xy


@SLOW
@given(masked_case())
def test_masking_with_its_margin_leaves_nothing_inside_any_zone(case):
    """The dbt masking's recipe (zones + 25 m margin cut out, 5 m snap, 15 m simplification: maps.synthetic.mask)
    on random tracks and overlapping zones: what is published passes the guard, vertices and segments."""
    zones, xy = case
    masked = synthetic.mask(xy, zones)
    assume(masked is not None)
    assert violations([masked], zones) == []


# ------------------------------------------------------------------------------------------ rate-limit budget


@st.composite
def header_events(draw):
    """A run of events on the client's clock: time passes (sometimes across a window or a day, sometimes backwards),
    a response brings headers (its usage includes other apps' requests), or the client wants to send."""
    events = []
    for _ in range(draw(st.integers(1, 60))):
        kind = draw(st.sampled_from(["tick", "tick", "jump", "back", "headers", "send", "send", "send"]))
        if kind == "tick":
            events.append(("tick", draw(st.floats(0, 120))))
        elif kind == "jump":
            events.append(("tick", draw(st.sampled_from([899.0, 900.0, 901.0, 3600.0, 86_399.0, 86_400.0]))))
        elif kind == "back":
            events.append(("back", draw(st.floats(1, 7200))))
        elif kind == "headers":
            l15, lday = draw(st.integers(1, 200)), draw(st.integers(1, 2000))
            o15, oday = draw(st.integers(1, 400)), draw(st.integers(1, 4000))
            events.append(
                ("headers", (draw(st.integers(0, l15 + 2)), draw(st.integers(0, lday + 2)), l15, lday), (o15, oday))
            )
        else:
            events.append(("send", None))
    return events


WINDOW, DAY = 900, 86_400


@FAST
@given(st.floats(1.7e9, 1.9e9), header_events(), st.booleans())
def test_the_budget_never_sends_what_the_last_headers_forbid(start, events, wait):
    """After headers saying (usage, limit) at time t_h, a request may go out only while the usage plus our own
    requests since stays under the limit, until time is in a later window (or day) than t_h. Time is the latest the
    client's clock has shown: a clock that jumps back (Strava's does not) never reopens a window."""
    clock = FakeClock(start)
    budget = Budget(clock=clock, wait=wait, on_wait=lambda s, r: clock.sleep(s))
    seen = None  # (t_h, read usage/limit, overall usage/limit)
    since = 0
    latest = -math.inf  # the latest time the budget has read from the clock
    for kind, *args in events:
        if kind == "tick":
            clock.advance(args[0])
        elif kind == "back":
            clock.set(clock.now() - args[0])
        elif kind == "headers":
            (u15, uday, l15, lday), (o15, oday) = args
            ou15, ouday = min(u15, o15), min(uday, oday)
            headers = {
                "X-ReadRateLimit-Limit": f"{l15},{lday}",
                "X-ReadRateLimit-Usage": f"{u15},{uday}",
                "X-RateLimit-Limit": f"{o15},{oday}",
                "X-RateLimit-Usage": f"{ou15},{ouday}",
            }
            budget.update(headers)
            latest = max(latest, clock.now())
            seen, since = (latest, (u15, uday, l15, lday), (ou15, ouday, o15, oday)), 0
        else:
            latest = max(latest, clock.now())
            try:
                budget.before_request()
            except BudgetStop:
                continue
            latest = max(latest, clock.now())  # after any wait
            if seen is not None:
                t_h = seen[0]
                for u15, uday, l15, lday in (seen[1], seen[2]):
                    if latest // WINDOW == t_h // WINDOW:
                        assert u15 + since < l15, f"sent in a window the headers closed ({u15}+{since} of {l15})"
                    if latest // DAY == t_h // DAY:
                        assert uday + since < lday, f"sent on a day the headers closed ({uday}+{since} of {lday})"
            budget.note_sent()
            since += 1


# ------------------------------------------------------------------------------------------ damaged device files

FILES = REFERENCE / "files"
DEVICE_FILES = sorted(p for sub in ("fit", "gpx", "tcx") for p in (FILES / sub).glob("*") if p.is_file())


class TookTooLong(Exception):
    pass


@contextlib.contextmanager
def time_bound(seconds: int):
    """A hang guard, not a speed test: a parser that loops on a damaged file ends the example with an error."""

    def expire(signum, frame):
        raise TookTooLong(f"no result within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


_FULL: dict = {}


def full_parse(path: Path):
    if path not in _FULL:
        from strava_pipeline.archive.tracks import parse_track

        _FULL[path] = parse_track(path.read_bytes(), path.name)
    return _FULL[path]


def _points(track) -> list:
    cols = [c for c in ("time", "lat", "lng") if c in track.table.column_names]
    return list(zip(*(track.table.column(c).to_pylist() for c in cols)))


def _device_file():
    if not DEVICE_FILES:
        pytest.skip(f"reference device files not found in {FILES} (set STRAVA_REFERENCE_DIR)")
    return st.sampled_from(DEVICE_FILES)


@SLOW
@given(st.data())
def test_a_file_cut_anywhere_keeps_the_points_before_the_cut(data):
    from strava_pipeline.archive.tracks import parse_track

    path = data.draw(_device_file())
    raw = path.read_bytes()
    cut = data.draw(st.integers(0, len(raw)))
    with time_bound(30):
        got = parse_track(raw[:cut], path.name)
    full = full_parse(path)
    note(f"{path.name} cut at {cut} of {len(raw)}: {got.points} of {full.points} points, damaged={got.damaged}")
    assert got.points <= full.points
    if cut < len(raw) and got.points:
        # what was read is the file's own beginning (the last point may lack the values cut off after it)
        mine, theirs = _points(got), _points(full)[: got.points]
        assert [p[0] for p in mine[:-1]] == [p[0] for p in theirs[:-1]]
    if cut == len(raw):
        assert got.points == full.points


@SLOW
@given(st.data())
def test_random_damage_never_crashes_or_hangs(data):
    from strava_pipeline.archive.tracks import parse_track

    path = data.draw(_device_file())
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 20))):
        kind = data.draw(st.sampled_from(["flip", "insert", "delete", "zero"]))
        at = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if kind == "flip" and raw:
            raw[at] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del raw[at : at + data.draw(st.integers(1, 256))]
        else:
            raw[at : at + 16] = bytes(min(16, len(raw) - at))
    with time_bound(30):
        got = parse_track(bytes(raw), path.name)
    assert got.points <= max(len(raw), 1)  # every point costs bytes: no count taken from a damaged header


@SLOW
@given(st.binary(max_size=4096), st.sampled_from([None, "x.fit", "x.gpx", "x.tcx", "x.fit.gz"]))
def test_arbitrary_bytes_are_refused_quietly(raw, name):
    from strava_pipeline.archive.tracks import parse_track

    with time_bound(30):
        got = parse_track(raw, name)
    assert got.points <= len(raw)


# ------------------------------------------------------------------------------------------ TopoJSON round trip


@SLOW
@given(
    st.lists(
        st.lists(st.tuples(st.floats(-179.9, 179.9), st.floats(-84.0, 84.0)), min_size=2, max_size=30),
        min_size=1,
        max_size=5,
    )
)
def test_topojson_round_trip_is_within_its_quantization(lines):
    """Every decoded vertex lies within half a cell diagonal of its original, and every original vertex within a
    cell diagonal of a decoded one (the writer drops a vertex on the same cell as the one before it)."""
    import io

    import topojson

    from strava_pipeline.maps import settings as map_settings
    from strava_pipeline.maps.export import TopoJSONWriter
    from strava_pipeline.maps.routes import RouteChunk

    # each line spans more than a cell (a shorter part is dropped on purpose)
    assume(all(float(haversine_m(a[1], a[0], b[1], b[0])) > 50 for a, b in (line[:2] for line in lines)))
    geometry = shapely.MultiLineString(lines)
    chunk = RouteChunk(np.array([1]), ["r"], ["2024-01-01"], ["Run"], [1.0], np.array([geometry], dtype=object))
    out = io.StringIO()
    writer = TopoJSONWriter(out, tuple(float(v) for v in shapely.bounds(geometry)))
    writer.add(chunk)
    writer.close()
    decoded = json.loads(topojson.Topology(json.loads(out.getvalue()), object_name="routes").to_geojson())
    got = shapely.get_coordinates(shapely.geometry.shape(decoded["features"][0]["geometry"]))
    want = shapely.get_coordinates(geometry)
    half_diagonal = map_settings.QUANTUM_M * math.sqrt(2) / 2
    d = haversine_m(got[:, 1][:, None], got[:, 0][:, None], want[:, 1][None, :], want[:, 0][None, :])
    assert float(d.min(axis=1).max()) <= half_diagonal * 1.001 + 1e-3
    assert float(d.min(axis=0).max()) <= 2 * half_diagonal * 1.001 + 1e-3
