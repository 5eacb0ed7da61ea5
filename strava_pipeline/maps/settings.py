"""Constants of the maps: where exports, tiles and pages live, quantization, tile sizes, colours."""

from strava_pipeline.config import PROJECT_ROOT

# <data dir>/exports/routes.{topojson,geojson,gpx}
EXPORTS_SUBDIR = "exports"
EXPORT_STEM = "routes"
FORMATS = {"topojson": "topojson", "geojson": "geojson", "gpx": "gpx"}  # format -> file extension

# <data dir>/maps/: the route map page (index.html) and the heatmap page (heatmap.html) with the vendored
# libraries; <data dir>/tiles/{z}/{x}/{y}.png: the heatmap tiles. Served side by side by `reports serve`
# (/maps/ and /tiles/), so the pages reach the tiles at ../tiles/ over HTTP and from file:// alike.
MAPS_SUBDIR = "maps"
TILES_SUBDIR = "tiles"
# per-tile inputs of the heatmap (pixel counts per tile, the geometry drawn per activity); outside the served
# folders
TILE_INPUTS_FILE = "tile_inputs.sqlite"

# the warehouse relations the maps read (dbt_project/models/marts, dbt_project/seeds)
ROUTES_RELATION = ("marts", "activity_routes_masked")
ACTIVITIES_RELATION = ("marts", "fct_activities")
ZONES_RELATION = ("seeds", "privacy_zones")
ZONES_CSV = PROJECT_ROOT / "dbt_project" / "seeds" / "privacy_zones.csv"
# Strava's visibility of an activity anyone can see
PUBLIC_VISIBILITY = "everyone"

# TopoJSON: the grid cell in metres (at most, in both axes). dbt snaps the masked routes to a 5 m grid and
# simplifies them at 15 m; a cell of half that grid moves a vertex by at most 1.8 m, less than the snap itself
# (up to 3.5 m), and keeps the file at a quarter of the GeoJSON (measured on the demo: 1 m 0.26, 2.5 m 0.245)
QUANTUM_M = 2.5
# routes per topojson.Topology call: bounds the library's memory (about 1 GB per million points in one call)
CHUNK_POINTS = 100_000
# metres per degree of latitude, the largest value (at the poles): cells are never taller than QUANTUM_M
M_PER_DEG_LAT_MAX = 111_694.0
M_PER_DEG_LNG_EQUATOR = 111_320.0

# heatmap tiles
TILE_SIZE = 256
DEFAULT_MAX_ZOOM = 16
MAX_ZOOM_LIMIT = 18
# pixel counts (activities through a pixel) at which the colour stops getting hotter
HEAT_SATURATION = 40
# bump when the drawing or the colours change: stored per-tile inputs of another version are rebuilt
TILE_RENDER_VERSION = 3

# npm packages copied next to the pages (maps/package.json, package-lock.json)
NPM_DIR = PROJECT_ROOT / "maps"
NPM_STAMP = ".strava-install-stamp"
VENDOR_FILES = {
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images/layers.png": "leaflet/dist/images/layers.png",
    "leaflet/images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
    "leaflet/images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
    "leaflet/LICENSE": "leaflet/LICENSE",
    "topojson-client/topojson-client.min.js": "topojson-client/dist/topojson-client.min.js",
    "topojson-client/LICENSE": "topojson-client/LICENSE",
}
# same variables as the Evidence reports: a {z}/{x}/{y} URL for a background map; none by default (offline)
TILE_URL_ENV = "STRAVA_TILE_URL"
TILE_ATTRIBUTION_ENV = "STRAVA_TILE_ATTRIBUTION"

# the one colour of each sport, on the route map and in every chart of the reports (reports.py writes them into the
# snapshot's sport_colours); a sport not listed gets one of OTHER_COLOURS by name. Runs warm, rides blue, water teal,
# on foot green, strength purple, snow slate: neighbours in a stacked chart stay apart
SPORT_COLOURS = {
    "Run": "#e4572e",
    "TrailRun": "#a63d40",
    "VirtualRun": "#f29e4c",
    "Ride": "#2e86ab",
    "VirtualRide": "#7fb7d9",
    "GravelRide": "#1b4965",
    "MountainBikeRide": "#3d5a80",
    "EBikeRide": "#98c1d9",
    "Swim": "#17bebb",
    "Rowing": "#0b7285",
    "Kayaking": "#1098ad",
    "Walk": "#90be6d",
    "Hike": "#43aa8b",
    "WeightTraining": "#7d5ba6",
    "Workout": "#b388eb",
    "Yoga": "#f7b2bd",
    "NordicSki": "#577590",
    "AlpineSki": "#4d908e",
    "BackcountrySki": "#6c757d",
}
OTHER_COLOURS = ("#c2255c", "#5f3dc4", "#364fc7", "#087f5b", "#e67700", "#495057")
