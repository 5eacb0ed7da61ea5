"""Constants of the Strava source: endpoints, page sizes, stream keys, raw table names. No secrets, no host URLs."""

import pyarrow as pa

PIPELINE_NAME = "strava_datastack"
DATASET_NAME = "strava"
WAREHOUSE_FILE = "strava.duckdb"
DEFAULT_DATA_DIR = "data"
DEMO_SUBDIR = "demo"
DAGSTER_SUBDIR = "dagster"
TOKENS_FILE = "strava_tokens.json"
BUDGET_FILE = "ratelimit.json"
PIPELINES_SUBDIR = "pipelines"

# first run without saved state loads this many days back
INITIAL_DAYS = 30

# Strava's maximum page size for /athlete/activities
PER_PAGE = 200

# OAuth scopes the pipeline needs: private activities and the full profile (gear, zones)
SCOPES = "read_all,activity:read_all,profile:read_all"

# paths relative to the configured base_url (e.g. https://www.strava.com/api/v3)
ATHLETE_PATH = "/athlete"
ATHLETE_STATS_PATH = "/athletes/{athlete_id}/stats"
ATHLETE_ZONES_PATH = "/athlete/zones"
ACTIVITIES_PATH = "/athlete/activities"
ACTIVITY_PATH = "/activities/{activity_id}"
STREAMS_PATH = "/activities/{activity_id}/streams"
LAPS_PATH = "/activities/{activity_id}/laps"
ZONES_PATH = "/activities/{activity_id}/zones"
GEAR_PATH = "/gear/{gear_id}"

# every stream type Strava serves for an activity (swagger: getActivityStreams keys)
STREAM_KEYS = (
    "time",
    "distance",
    "latlng",
    "altitude",
    "velocity_smooth",
    "heartrate",
    "cadence",
    "watts",
    "temp",
    "moving",
    "grade_smooth",
)

# raw activity_streams table: one row per recorded point; latlng is split into lat/lng
STREAM_SCHEMA = pa.schema(
    [
        ("athlete_id", pa.int64()),
        pa.field("activity_id", pa.int64(), nullable=False),
        pa.field("point_index", pa.int32(), nullable=False),
        ("time", pa.int32()),
        ("distance", pa.float64()),
        ("lat", pa.float64()),
        ("lng", pa.float64()),
        ("altitude", pa.float64()),
        ("velocity_smooth", pa.float64()),
        ("heartrate", pa.float64()),
        ("cadence", pa.float64()),
        ("watts", pa.float64()),
        ("temp", pa.float64()),
        ("moving", pa.bool_()),
        ("grade_smooth", pa.float64()),
        ("source", pa.string()),
    ]
)

# numeric fields that Strava sends as int or float depending on the value (0 vs 0.0): pinned to double
ACTIVITY_DOUBLE_COLUMNS = (
    "distance",
    "total_elevation_gain",
    "average_speed",
    "max_speed",
    "average_cadence",
    "average_temp",
    "average_watts",
    "weighted_average_watts",
    "max_watts",
    "kilojoules",
    "average_heartrate",
    "max_heartrate",
    "elev_high",
    "elev_low",
    "suffer_score",
    "utc_offset",
)
ACTIVITY_BIGINT_COLUMNS = (
    "id",
    "athlete_id",
    "moving_time",
    "elapsed_time",
    "workout_type",
    "achievement_count",
    "kudos_count",
    "comment_count",
    "athlete_count",
    "photo_count",
    "total_photo_count",
    "pr_count",
    "upload_id",
)
ACTIVITY_TEXT_COLUMNS = (
    "name",
    "type",
    "sport_type",
    "timezone",
    "visibility",
    "gear_id",
    "external_id",
    "map__summary_polyline",
    "source",
)
ACTIVITY_BOOL_COLUMNS = (
    "trainer",
    "commute",
    "manual",
    "private",
    "flagged",
    "has_heartrate",
    "device_watts",
    "deleted",
)
