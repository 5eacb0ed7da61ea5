"""The route map and heatmap pages open in headless Chromium, offline, and show the routes.

The data dir is served over loopback the way `reports serve` serves it (/maps/ next to /tiles/); every other
host resolves to nothing, so a page that needed the internet would show it. Screenshots: tests/output/maps/."""

import functools
import html
import http.server
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

from strava_pipeline.maps import settings
from strava_pipeline.maps.page import build_map_page, sport_colours
from strava_pipeline.maps.png import decode
from strava_pipeline.maps.synthetic import DEFAULT_ZONES, generate_routes, write_warehouse
from strava_pipeline.maps.tiles import palette, update_tiles

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
SHOTS = Path(__file__).resolve().parent / "output" / "maps"
NPM_READY = shutil.which("npm") or all(
    (settings.NPM_DIR / "node_modules" / src).exists() for src in settings.VENDOR_FILES.values()
)

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"),
    pytest.mark.skipif(
        not NPM_READY, reason="npm is not installed and maps/node_modules is missing: the pages vendor Leaflet from npm"
    ),
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A data dir with routes, heatmap tiles and both pages, served on 127.0.0.1."""
    data = tmp_path_factory.mktemp("maps") / "data"
    zones = data.parent / "privacy_zones.csv"
    zones.write_text(
        "name,lat,lon,radius_m\n" + "".join(f"{z.name},{z.lat},{z.lon},{z.radius_m}\n" for z in DEFAULT_ZONES)
    )
    routes = generate_routes(40, seed=21, length_km=(3.0, 25.0))
    write_warehouse(data / "strava.duckdb", routes)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "ZONES_CSV", zones)
        update_tiles(data, max_zoom=13)
        build_map_page(data)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(data)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"data": data, "routes": routes, "url": f"http://127.0.0.1:{server.server_address[1]}"}
    server.shutdown()
    server.server_close()


def chromium(url: str, screenshot: Path = None) -> str:
    """The DOM after the page's scripts ran (or a screenshot), from a fresh headless Chromium."""
    profile = tempfile.mkdtemp(prefix="maps-chromium-")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--virtual-time-budget=8000",
        "--window-size=1000,700",
    ]
    flags.append(f"--screenshot={screenshot}" if screenshot else "--dump-dom")
    try:
        proc = subprocess.run(
            [CHROMIUM, *flags, url], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def body_data(dom: str) -> dict:
    body = re.search(r"<body([^>]*)>", dom).group(1)
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body))


def pixels_near(image: np.ndarray, hex_colour: str, distance: int = 40) -> int:
    """Pixels of the colour as a route line draws it: 80 % opaque over the map's #e9ecef background."""
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    drawn = 0.8 * rgb + 0.2 * np.array([0xE9, 0xEC, 0xEF])
    return int((np.abs(image[..., :3].astype(int) - drawn).sum(axis=2) < distance).sum())


def test_route_map_draws_every_route_coloured_by_sport(site):
    state = body_data(chromium(site["url"] + "/maps/index.html"))
    assert state["ready"] == "1"
    assert state["routes-shown"] == state["routes-total"] == str(len(site["routes"]))

    shot = SHOTS / "route_map.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    chromium(site["url"] + "/maps/index.html", screenshot=shot)
    image = decode(shot.read_bytes())
    colours = sport_colours(sorted({r.sport_type for r in site["routes"]}))
    drawn = {sport: pixels_near(image, colour) for sport, colour in colours.items()}
    assert drawn["Ride"] > 500 and drawn["Run"] > 200, drawn


def test_route_map_filters_by_date_and_sport_from_the_address(site):
    routes = site["routes"]
    days = sorted(r.start_date_local.isoformat() for r in routes)
    since, until = days[len(days) // 4], days[3 * len(days) // 4]
    state = body_data(chromium(f"{site['url']}/maps/index.html#from={since}&to={until}"))
    assert state["routes-shown"] == str(sum(since <= r.start_date_local.isoformat() <= until for r in routes))
    state = body_data(chromium(f"{site['url']}/maps/index.html#from={since}&sports=Run,Walk"))
    assert state["routes-shown"] == str(
        sum(r.start_date_local.isoformat() >= since and r.sport_type in ("Run", "Walk") for r in routes)
    )
    assert 0 < int(state["routes-shown"]) < len(routes)


def test_route_popup_shows_the_route_and_escapes_its_name(site):
    route = site["routes"][3]
    dom = chromium(f"{site['url']}/maps/index.html#route={route.activity_id}")
    popup = re.search(r'<div class="route-popup" data-route-id="(\d+)">(.*?)</div>\s*</div>', dom, re.S)
    assert popup, "no popup opened"
    assert popup.group(1) == str(route.activity_id)
    assert f"<b>{html.escape(route.name, quote=False)}</b>" in popup.group(2)  # the name has < & " in it
    assert f'href="../activity/?id={route.activity_id}"' in popup.group(2)
    assert route.start_date_local.isoformat() in popup.group(2)


def test_heatmap_page_shows_the_tiles(site):
    shot = SHOTS / "heatmap.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    chromium(site["url"] + "/maps/heatmap.html", screenshot=shot)
    image = decode(shot.read_bytes()).astype(int)
    hot = palette()[[1, settings.HEAT_SATURATION // 2, settings.HEAT_SATURATION]]
    # tiles are drawn with alpha over the dark background: reddish, clearly brighter in red than in blue
    reddish = (image[..., 0] > 100) & (image[..., 0] > image[..., 2] + 60)
    assert reddish.sum() > 2000, f"no heat on the screenshot ({reddish.sum()} px), palette {hot.tolist()}"


def test_pages_load_nothing_from_the_internet(site):
    maps = site["data"] / "maps"
    for page in ("index.html", "heatmap.html"):
        text = (maps / page).read_text()
        refs = re.findall(r'(?:src|href)="([^"]+)"', text)
        assert refs and all(not re.match(r"^[a-z]+://|^//", r) for r in refs), refs
        for ref in refs:
            if ref.startswith("vendor/"):
                assert (maps / ref).is_file(), ref
    assert (maps / "vendor" / "leaflet" / "leaflet.js").read_bytes() == (
        settings.NPM_DIR / "node_modules" / "leaflet" / "dist" / "leaflet.js"
    ).read_bytes()


def test_route_map_starts_where_most_routes_are_and_fit_all_reaches_a_trip(tmp_path):
    """20 routes at home and 2 on a trip 600 km east: the map opens on home (the trip outside the view), from the
    masked routes alone; 'Fit all' and the 'Where' list still reach the trip."""
    from strava_pipeline.maps.synthetic import shifted

    data = tmp_path / "data"
    home = generate_routes(20, seed=5, length_km=(3.0, 15.0))
    trip = [shifted(route, 600_000.0, new_id=9_000_000 + i) for i, route in enumerate(home[:2])]
    write_warehouse(data / "strava.duckdb", home + trip)
    build_map_page(data)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(data)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/maps/index.html"
        dom = chromium(url)
        shot = SHOTS / "route_map_home_first.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        chromium(url, screenshot=shot)
    finally:
        server.shutdown()
        server.server_close()
    state = body_data(dom)
    assert state["routes-shown"] == "22"
    west, south, east, north = (float(v) for v in state["bounds"].split(","))

    def inside(route) -> bool:
        x0, y0, x1, y1 = route.geometry.bounds
        return west <= x0 and x1 <= east and south <= y0 and y1 <= north

    assert all(inside(r) for r in home), (state["bounds"], [r.geometry.bounds for r in home if not inside(r)])
    assert not any(west <= r.geometry.centroid.x <= east and south <= r.geometry.centroid.y <= north for r in trip), (
        state["bounds"]
    )
    # the trip stays reachable: a 'Fit all' button and the trip as a place in the 'Where' list
    assert 'id="fitall"' in dom
    options = re.findall(r"<option[^>]*>([^<]*)</option>", dom)
    assert options[:2] == ["Everywhere (22)", "Where most routes are (20 routes)"], options
    assert any(o.startswith("2 routes, ") for o in options), options
    assert not any(re.search(r"\d+\.\d+, *\d+\.\d+", o) for o in options), "a place named by its coordinates"
