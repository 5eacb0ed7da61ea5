"""Maps of the privacy-masked routes: TopoJSON/GeoJSON/GPX exports, the route map page, heatmap tiles.

Plain functions for the CLI (strava_pipeline.maps.command) and for Dagster assets; every one reads only
marts.activity_routes_masked (read-only) and draws or writes nothing but masked geometry:

    export_routes(data_dir, fmt="topojson", sports=(), since=None, until=None, public_only=False) -> ExportResult
    update_tiles(data_dir, max_zoom=16, public_only=False, rebuild=False) -> TileResult
    build_map_page(data_dir, tile_url=None) -> PageResult
    served_folders(data_dir) -> {"/maps/": Path, "/tiles/": Path}

They are imported on first use, so that `strava.py --help` does not load numpy and shapely.
"""

import importlib
from pathlib import Path

from strava_pipeline.maps import settings


def served_folders(data_dir: Path) -> dict:
    """URL prefix -> folder, for `reports serve`: the pages reach the tiles at ../tiles/, so both are served
    side by side at the root of the site (and work the same from file://)."""
    return {"/maps/": Path(data_dir) / settings.MAPS_SUBDIR, "/tiles/": Path(data_dir) / settings.TILES_SUBDIR}


_WHERE = {
    "ExportResult": "export",
    "export_routes": "export",
    "TileResult": "tiles",
    "update_tiles": "tiles",
    "PageResult": "page",
    "build_map_page": "page",
    "build_heatmap_page": "page",
}
__all__ = sorted([*_WHERE, "served_folders"])


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"strava_pipeline.maps.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'strava_pipeline.maps' has no attribute {name!r}")
