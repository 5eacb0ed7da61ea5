"""Maps: route exports (TopoJSON, GeoJSON, GPX), heatmap tiles and the route map page, from the masked routes only."""

import dagster as dg

from orchestration.defs.transform import strava_dbt
from orchestration.resources import WAREHOUSE_POOL, StravaEnv, user_errors
from strava_pipeline.config import strava_command
from strava_pipeline.maps import settings

MAPS_GROUP = "maps"
EXPORTS_KEY = dg.AssetKey(["exports", "routes"])
TILES_KEY = dg.AssetKey(["tiles", "heatmap"])
ROUTE_MAP_KEY = dg.AssetKey(["maps", "route_map"])
# what the maps read, keyed like the dbt assets (<schema>/<table>)
READS = [
    key
    for key in (dg.AssetKey(list(settings.ROUTES_RELATION)), dg.AssetKey(list(settings.ACTIVITIES_RELATION)))
    if key in set(strava_dbt.keys)
]


def _holder(context) -> str:
    return f"dagster run {context.run.run_id[:8]} (maps)"


@dg.asset(
    key=EXPORTS_KEY,
    deps=READS,
    group_name=MAPS_GROUP,
    kinds={"topojson", "geojson", "gpx"},
    pool=WAREHOUSE_POOL,
    description="<data dir>/exports/routes.topojson, .geojson and .gpx: every masked route with id, name, date, "
    "sport and distance (`strava.py export`).",
)
def route_exports(context: dg.AssetExecutionContext, strava: StravaEnv) -> dg.MaterializeResult:
    from strava_pipeline.maps.export import export_routes

    data_dir = strava.resolved_data_dir()
    metadata: dict = {}
    # the warehouse is read while no import or dbt build writes it
    with strava.writer_lock(context.log, data_dir, _holder(context)):
        for fmt in settings.FORMATS:
            result = export_routes(data_dir, fmt)
            metadata[f"{fmt}_path"] = dg.MetadataValue.path(str(result.path))
            metadata[f"{fmt}_kb"] = round(result.size_bytes / 1e3, 1)
            metadata["routes"], metadata["points"] = result.routes, result.points
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=TILES_KEY,
    deps=READS,
    group_name=MAPS_GROUP,
    kinds={"png"},
    pool=WAREHOUSE_POOL,
    description="<data dir>/tiles/{z}/{x}/{y}.png: the personal heatmap (zoom 0-16), redrawn only where activities "
    "were added, changed or deleted (`strava.py tiles`), and its browse page maps/heatmap.html.",
)
def heatmap_tiles(context: dg.AssetExecutionContext, strava: StravaEnv) -> dg.MaterializeResult:
    from strava_pipeline.maps.page import build_heatmap_page
    from strava_pipeline.maps.tiles import update_tiles

    data_dir = strava.resolved_data_dir()
    with strava.writer_lock(context.log, data_dir, _holder(context)):
        result = update_tiles(data_dir)
    with user_errors():  # the page needs the npm packages of maps/ (Node); the tiles are written anyway
        page = build_heatmap_page(data_dir)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.tiles_dir)),
            "page": dg.MetadataValue.path(str(page)),
            "mode": result.mode,
            "activities": result.activities,
            "added": result.added,
            "changed": result.changed,
            "removed": result.removed,
            "tiles_drawn": result.tiles_written,
            "tiles_deleted": result.tiles_deleted,
            "tiles": result.tiles_total,
            "seconds": round(result.seconds, 2),
        }
    )


@dg.asset(
    key=ROUTE_MAP_KEY,
    deps=[*READS, TILES_KEY],
    group_name=MAPS_GROUP,
    kinds={"leaflet", "html"},
    pool=WAREHOUSE_POOL,
    description="<data dir>/maps/index.html: every masked route coloured by sport with popups, date and sport "
    "filters and the heatmap overlay; Leaflet vendored from npm, nothing loaded from a CDN "
    "(`strava.py map`).",
)
def route_map(context: dg.AssetExecutionContext, strava: StravaEnv) -> dg.MaterializeResult:
    from strava_pipeline.maps.page import build_map_page

    data_dir = strava.resolved_data_dir()
    with strava.writer_lock(context.log, data_dir, _holder(context)):
        result = build_map_page(data_dir)
    serve = f"{strava_command(data_dir, 'reports', 'serve', demo=strava.is_demo())}, then /maps/"
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.page)),
            "routes": result.routes,
            "points": result.points,
            "size_kb": round(result.size_bytes / 1e3, 1),
            "serve": serve,
        }
    )


defs = dg.Definitions(assets=[route_exports, heatmap_tiles, route_map])
