"""Map what a device file says its sport is (FIT sport/sub_sport, GPX <type>, TCX Sport) to Strava's sport_type."""

from __future__ import annotations

from strava_pipeline.archive.sport_types import LEGACY_TYPE, sport_and_type

# FIT `sub_sport` values that decide the sport_type whatever the sport (FIT profile enum names, as fitdecode gives)
_FIT_SUB_SPORT = {
    "trail": "TrailRun",
    "mountain": "MountainBikeRide",
    "downhill": "MountainBikeRide",
    "gravel_cycling": "GravelRide",
    "e_bike_mountain": "EMountainBikeRide",
    "e_bike_fitness": "EBikeRide",
    "hand_cycling": "Handcycle",
    "indoor_rowing": "Rowing",
    "elliptical": "Elliptical",
    "stair_climbing": "StairStepper",
    "strength_training": "WeightTraining",
    "yoga": "Yoga",
    "pilates": "Pilates",
    "hiit": "HighIntensityIntervalTraining",
    "backcountry": "BackcountrySki",
    "skate_skiing": "NordicSki",
    "open_water": "Swim",
    "lap_swimming": "Swim",
}
# FIT `sub_sport` values that say the activity was indoors (Strava: `trainer`), and the virtual sport_type if any
_FIT_INDOOR = {
    "treadmill",
    "indoor_cycling",
    "spin",
    "indoor_running",
    "indoor_rowing",
    "virtual_activity",
    "indoor_walking",
}
_FIT_VIRTUAL = {"cycling": "VirtualRide", "running": "VirtualRun", "rowing": "VirtualRow"}

# FIT `sport` values -> sport_type
_FIT_SPORT = {
    "running": "Run",
    "cycling": "Ride",
    "e_biking": "EBikeRide",
    "swimming": "Swim",
    "walking": "Walk",
    "hiking": "Hike",
    "mountaineering": "Hike",
    "cross_country_skiing": "NordicSki",
    "alpine_skiing": "AlpineSki",
    "snowboarding": "Snowboard",
    "snowshoeing": "Snowshoe",
    "rowing": "Rowing",
    "paddling": "Canoeing",
    "kayaking": "Kayaking",
    "rafting": "Kayaking",
    "stand_up_paddleboarding": "StandUpPaddling",
    "surfing": "Surfing",
    "kitesurfing": "Kitesurf",
    "windsurfing": "Windsurf",
    "sailing": "Sail",
    "inline_skating": "InlineSkate",
    "ice_skating": "IceSkate",
    "rock_climbing": "RockClimbing",
    "golf": "Golf",
    "tennis": "Tennis",
    "soccer": "Soccer",
    "training": "Workout",
    "fitness_equipment": "Workout",
    "hiit": "HighIntensityIntervalTraining",
    "wheelchair_push_run": "Wheelchair",
    "wheelchair_push_walk": "Wheelchair",
    "generic": "Workout",
}

# GPX <type> and TCX Sport values other apps write (lower case) -> sport_type; Strava's own GPX export writes a number
# (9 for a run: the reference strava_export.gpx is the same run as stopped_example.tcx, Sport="Running")
_TEXT = {
    "running": "Run",
    "run": "Run",
    "biking": "Ride",
    "cycling": "Ride",
    "ride": "Ride",
    "bike": "Ride",
    "walking": "Walk",
    "hiking": "Hike",
    "swimming": "Swim",
    "other": None,
    "1": "Ride",
    "4": "Hike",
    "9": "Run",
    "10": "Walk",
}


def fit_sport(sport: str | None) -> tuple[str | None, bool]:
    """FIT 'sport' or 'sport/sub_sport' (as TrackResult.sport holds it) -> (sport_type, trainer)."""
    if not sport:
        return None, False
    main, _, sub = str(sport).partition("/")
    indoor = sub in _FIT_INDOOR
    if sub == "virtual_activity" and main in _FIT_VIRTUAL:
        return _FIT_VIRTUAL[main], True
    if sub in _FIT_SUB_SPORT:
        return _FIT_SUB_SPORT[sub], indoor
    return _FIT_SPORT.get(main), indoor


def text_sport(value: str | None) -> str | None:
    """A GPX <type> or TCX Sport -> sport_type, None when it names no sport Strava knows."""
    if not value or not value.strip():
        return None
    key = value.strip().lower()
    if key in _TEXT:
        return _TEXT[key]
    sport_type, _type, known = sport_and_type(value.strip())
    return sport_type if known else None


def file_sport(fmt: str, sport: str | None) -> tuple[str | None, str | None, bool]:
    """(sport_type, legacy type, trainer) of a parsed file of format fmt ('fit', 'gpx', 'tcx')."""
    if fmt == "fit":
        sport_type, trainer = fit_sport(sport)
    else:
        sport_type, trainer = text_sport(sport), False
    legacy = LEGACY_TYPE.get(sport_type, sport_type) if sport_type else None
    return sport_type, legacy, trainer


# sport families for matching the same recording across sources: a file says "cycling" where Strava says
# MountainBikeRide, a watch says "generic" for anything. Keep in step with stg_strava__activities.sql.
_FAMILIES = {
    "Ride": "Ride",
    "VirtualRide": "Ride",
    "MountainBikeRide": "Ride",
    "GravelRide": "Ride",
    "EBikeRide": "Ride",
    "EMountainBikeRide": "Ride",
    "Velomobile": "Ride",
    "Handcycle": "Ride",
    "Run": "Run",
    "TrailRun": "Run",
    "VirtualRun": "Run",
    "Walk": "Foot",
    "Hike": "Foot",
    "Snowshoe": "Foot",
    "Rowing": "Row",
    "VirtualRow": "Row",
    "Canoeing": "Paddle",
    "Kayaking": "Paddle",
    "StandUpPaddling": "Paddle",
    "NordicSki": "Ski",
    "AlpineSki": "Ski",
    "BackcountrySki": "Ski",
    "RollerSki": "Ski",
    "Snowboard": "Ski",
}
# sport types that say nothing about the sport (a watch's "generic" recording): compatible with anything
WILDCARD_SPORTS = frozenset({"Workout"})


def sport_family(sport_type: str | None) -> str | None:
    if sport_type is None or sport_type in WILDCARD_SPORTS:
        return None
    return _FAMILIES.get(sport_type, sport_type)


def compatible_sports(a: str | None, b: str | None) -> bool:
    """Could two sources' sport types describe the same recording? Unknown or generic matches anything."""
    fa, fb = sport_family(a), sport_family(b)
    return fa is None or fb is None or fa == fb
