"""The maps' privacy guard (maps/privacy.py) at its edges: a route a metre inside or outside a zone, the segments of
every part of a multi-part route, a zone of one athlete next to that athlete's routes far away, the distance it
reports. The cases mutation testing found unasserted (RELIABILITY.md, Mutation score); the distances are built with
the direct formula on the sphere, independently of the module under test."""

import math

import pytest
import shapely

from strava_pipeline.config import UserError, default_data_dir, strava_command
from strava_pipeline.maps.privacy import EARTH_RADIUS_M, check_outside_zones, haversine_m, violations
from strava_pipeline.maps.routes import Zone

HOME = Zone("home", 46.0569, 14.5058, 200.0)
ATHLETE = 1001


def offset(lat: float, lng: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """The point distance_m from (lat, lng) along bearing_deg on the sphere (the standard direct formula)."""
    phi, lmb, theta = math.radians(lat), math.radians(lng), math.radians(bearing_deg)
    delta = distance_m / EARTH_RADIUS_M
    phi2 = math.asin(math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta))
    lmb2 = lmb + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi), math.cos(delta) - math.sin(phi) * math.sin(phi2)
    )
    return math.degrees(phi2), math.degrees(lmb2)


def passing(zone: Zone, closest_m: float, half_length_m: float = 500.0) -> list[tuple[float, float]]:
    """A straight (great-circle) segment whose closest approach to the zone's centre is closest_m, at its middle:
    it runs east-west through the point closest_m north of the centre, so both its vertices are far outside."""
    lat, lng = offset(zone.lat, zone.lon, 0.0, closest_m)
    # the bearing from the middle back to the centre is 180; perpendicular to it, east and west
    (lat_w, lng_w), (lat_e, lng_e) = offset(lat, lng, 270.0, half_length_m), offset(lat, lng, 90.0, half_length_m)
    return [(lng_w, lat_w), (lng_e, lat_e)]  # (lng, lat): shapely's order


def route(*parts: list) -> shapely.MultiLineString:
    return shapely.MultiLineString([list(p) for p in parts])


@pytest.mark.parametrize("side_m", [-0.5, 0.5])
def test_a_segment_half_a_metre_inside_is_a_leak_and_half_a_metre_outside_is_not(side_m):
    segment = passing(HOME, HOME.radius_m + side_m)
    vertices = [haversine_m(HOME.lat, HOME.lon, lat, lng) for lng, lat in segment]
    assert min(vertices) > HOME.radius_m + 5  # only the segment comes close
    found = violations([route(segment)], [HOME])
    if side_m < 0:
        assert [(v.zone, v.route_index) for v in found] == [("home", 0)]
        assert found[0].distance_m == pytest.approx(HOME.radius_m + side_m, abs=0.01)
    else:
        assert found == []  # no slack unless the caller asks for one
        assert [v.zone for v in violations([route(segment)], [HOME], slack_m=1.0)] == ["home"]


def test_every_part_of_a_multi_part_route_is_checked_segment_by_segment():
    far = [offset(HOME.lat, HOME.lon, 0.0, 5000.0)[::-1], offset(HOME.lat, HOME.lon, 10.0, 5000.0)[::-1]]
    through = passing(HOME, 50.0)  # its vertices are ~500 m out, its middle 50 m from the centre
    routes = [route(far), route(far, through)]
    assert [(v.zone, v.route_index) for v in violations(routes, [HOME])] == [("home", 1)]
    # the gap between two parts is no segment: a route that stops on one side and starts again on the other is clear
    west, east = through
    assert violations([route([far[0], west], [east, far[1]])], [HOME]) == []


def test_a_zone_of_an_athlete_flags_only_routes_that_come_close():
    home = Zone("home", HOME.lat, HOME.lon, HOME.radius_m, ATHLETE)
    far = route([offset(HOME.lat, HOME.lon, 0.0, 5000.0)[::-1], offset(HOME.lat, HOME.lon, 10.0, 5000.0)[::-1]])
    near = route(passing(HOME, 100.0))
    assert violations([far], [home], athletes=[ATHLETE]) == []
    assert [v.route_index for v in violations([far, near, near], [home], athletes=[ATHLETE, ATHLETE, 7])] == [1]


def test_the_distance_reported_is_the_closest_approach_of_the_route():
    radial = [offset(HOME.lat, HOME.lon, 0.0, d)[::-1] for d in (10.0, 50.0, 80.0, 150.0)]  # going away from home
    ((zone, index, distance),) = [(v.zone, v.route_index, v.distance_m) for v in violations([route(radial)], [HOME])]
    assert (zone, index) == ("home", 0) and distance == pytest.approx(10.0, abs=0.01)
    ((_, _, distance),) = [(v.zone, v.route_index, v.distance_m) for v in violations([route(radial[::-1])], [HOME])]
    assert distance == pytest.approx(10.0, abs=0.01)


def test_nothing_to_check_is_no_violation():
    assert violations([], [HOME]) == []
    assert violations([route(passing(HOME, 0.0))], []) == []


def test_without_a_command_the_stale_seed_hint_names_the_dbt_build_of_the_default_data_dir():
    near = route(passing(HOME, 0.0))
    with pytest.raises(UserError) as stale:
        check_outside_zones([near], [5], [], [HOME])
    command = strava_command(default_data_dir(), "dbt", "build")
    assert command == "uv run strava.py dbt build"
    assert str(stale.value).endswith(f"run `{command}` and export again.")
