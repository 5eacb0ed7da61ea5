"""The route map page and the heatmap page in <data dir>/maps/, with Leaflet and topojson-client from npm
copied next to them (vendor/): nothing is loaded from the internet when they are viewed."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from strava_pipeline.config import UserError, warehouse_path
from strava_pipeline.maps import settings
from strava_pipeline.maps.export import write_routes
from strava_pipeline.maps.routes import RouteFilter, RouteSource, open_warehouse
from strava_pipeline.maps.tiles import palette

ASSETS = Path(__file__).resolve().parent / "assets"
ROUTES_SCRIPT = "routes.js"


@dataclass
class PageResult:
    page: Path
    routes: int
    points: int
    size_bytes: int
    seconds: float


def maps_dir(data_dir: Path) -> Path:
    return data_dir / settings.MAPS_SUBDIR


# ------------------------------------------------------------------------------------------------- vendoring


def _install_stamp(npm_dir: Path, node_version: str) -> str:
    digest = hashlib.sha256(node_version.encode())
    for name in ("package.json", "package-lock.json"):
        digest.update((npm_dir / name).read_bytes())
    return digest.hexdigest()


def ensure_npm_packages(npm_dir: Path = settings.NPM_DIR) -> Path:
    """maps/node_modules from package-lock.json (`npm ci`, once; again when the lock or Node changes)."""
    modules = npm_dir / "node_modules"
    wanted = [modules / source for source in settings.VENDOR_FILES.values()]
    node, npm = shutil.which("node"), shutil.which("npm")
    stamp_file = modules / settings.NPM_STAMP
    if node and npm:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        stamp = _install_stamp(npm_dir, version)
        if stamp_file.exists() and stamp_file.read_text().strip() == stamp and all(p.exists() for p in wanted):
            return modules
    elif all(p.exists() for p in wanted):
        return modules  # installed before; the pages only need the files
    else:
        raise UserError(
            "The map pages need Leaflet from npm, but npm is not on PATH: install Node 20 with npm "
            "(e.g. `apt-get install nodejs npm`) and run again."
        )
    proc = subprocess.run(
        [npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=npm_dir,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        raise UserError(
            f"`npm ci` in {npm_dir} failed (exit {proc.returncode}): check the network to the npm "
            f"registry and run again. Last lines:\n{tail}"
        )
    stamp_file.write_text(stamp + "\n")
    return modules


def vendor(target: Path, npm_dir: Path = settings.NPM_DIR) -> None:
    """Copies the browser files of Leaflet and topojson-client to target/vendor/ (only the ones that changed)."""
    modules = ensure_npm_packages(npm_dir)
    for dest, source in settings.VENDOR_FILES.items():
        src, out = modules / source, target / "vendor" / dest
        data = src.read_bytes()
        if out.exists() and out.read_bytes() == data:
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(out, data)


# ------------------------------------------------------------------------------------------------- pages


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _blank_tile() -> str:
    """A transparent 1x1 PNG as a data URL: what the map shows where no heatmap tile exists."""
    import numpy as np

    from strava_pipeline.maps.png import encode_palette

    png = encode_palette(np.zeros((1, 1), dtype=np.uint8), np.zeros((1, 4), dtype=np.uint8))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _base_config(tile_url: str | None) -> dict:
    tile_url = tile_url if tile_url is not None else os.environ.get(settings.TILE_URL_ENV) or None
    if tile_url and not re.match(r"^(https?://|/|\.\./)", tile_url):
        raise UserError(
            f"Tile URL {tile_url!r} must start with http://, https:// or /: for example "
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png."
        )
    return {
        "tileUrl": tile_url,
        "attribution": os.environ.get(settings.TILE_ATTRIBUTION_ENV, ""),
        "blankTile": _blank_tile(),
    }


def _render(template: str, config: dict) -> bytes:
    # "</" cannot end the inline script whatever a sport is called
    text = json.dumps(config, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
    return (ASSETS / template).read_text().replace("__CONFIG__", text).encode()


def sport_colours(sports: list) -> dict:
    colours = {}
    for sport in sports:
        colours[sport] = (
            settings.SPORT_COLOURS.get(sport)
            or settings.OTHER_COLOURS[zlib.crc32(sport.encode()) % len(settings.OTHER_COLOURS)]
        )
    return colours


def _tilejson(data_dir: Path) -> dict | None:
    path = data_dir / settings.TILES_SUBDIR / "tiles.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def build_heatmap_page(data_dir: Path, tile_url: str | None = None) -> Path:
    """<data dir>/maps/heatmap.html for the tiles in <data dir>/tiles (their tiles.json read now)."""
    target = maps_dir(data_dir)
    vendor(target)
    colours = palette()
    config = {
        **_base_config(tile_url),
        "tiles": _tilejson(data_dir),
        "saturation": settings.HEAT_SATURATION,
        "legend": [
            "rgba(%d,%d,%d,%.2f)" % (r, g, b, a / 255)
            for r, g, b, a in colours[[1, 2, 4, 8, 16, settings.HEAT_SATURATION]].tolist()
        ],
    }
    page = target / "heatmap.html"
    _write_atomic(page, _render("heatmap.html", config))
    return page


def build_map_page(
    data_dir: Path, tile_url: str | None = None, quantum_m: float = settings.QUANTUM_M, lock_warehouse: bool = False
) -> PageResult:
    """<data dir>/maps/index.html: every masked route (routes.js, TopoJSON), coloured by sport, a popup per route,
    date and sport filters; the heatmap as an overlay when tiles exist. Also (re)writes heatmap.html.
    lock_warehouse: hold the writer lock while reading (see routes.open_warehouse)."""
    started = time.perf_counter()
    target = maps_dir(data_dir)
    base = _base_config(tile_url)
    vendor(target)
    with open_warehouse(data_dir, lock=lock_warehouse) as con:
        source = RouteSource(con, warehouse_path(data_dir))
        sports = source.sports()
        bbox = source.bbox(RouteFilter())
        script = target / ROUTES_SCRIPT
        tmp = script.with_name(script.name + ".tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as out:
                out.write("window.STRAVA_ROUTES = ")
                routes, points = write_routes(source, RouteFilter(), "topojson", out, quantum_m)
                out.write(";\n")
            os.replace(tmp, script)
        finally:
            tmp.unlink(missing_ok=True)
    tiles = _tilejson(data_dir)
    centre = [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2] if bbox else [14.5058, 46.0569]
    config = {
        **base,
        "colours": sport_colours(sports),
        "center": centre,
        "heatmap": {"maxzoom": tiles["maxzoom"]} if tiles and tiles.get("activities") else None,
    }
    page = target / "index.html"
    _write_atomic(page, _render("route_map.html", config))
    build_heatmap_page(data_dir, tile_url)
    size = sum(p.stat().st_size for p in (page, script))
    return PageResult(page, routes, points, size, time.perf_counter() - started)
