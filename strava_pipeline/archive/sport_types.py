"""Map activities.csv 'Activity Type' display names ("Nordic Ski") to Strava's sport_type and legacy type enums."""

from __future__ import annotations

import re

# Strava API SportType enum (developers.strava.com, "SportType"); the swagger copy in the
# reference folder has no model definitions, so this is the public list.
SPORT_TYPES = (
    "AlpineSki",
    "BackcountrySki",
    "Badminton",
    "Canoeing",
    "Crossfit",
    "EBikeRide",
    "Elliptical",
    "EMountainBikeRide",
    "Golf",
    "GravelRide",
    "Handcycle",
    "HighIntensityIntervalTraining",
    "Hike",
    "IceSkate",
    "InlineSkate",
    "Kayaking",
    "Kitesurf",
    "MountainBikeRide",
    "NordicSki",
    "Pickleball",
    "Pilates",
    "Racquetball",
    "Ride",
    "RockClimbing",
    "RollerSki",
    "Rowing",
    "Run",
    "Sail",
    "Skateboard",
    "Snowboard",
    "Snowshoe",
    "Soccer",
    "Squash",
    "StairStepper",
    "StandUpPaddling",
    "Surfing",
    "Swim",
    "TableTennis",
    "Tennis",
    "TrailRun",
    "Velomobile",
    "VirtualRide",
    "VirtualRow",
    "VirtualRun",
    "Walk",
    "WeightTraining",
    "Wheelchair",
    "Windsurf",
    "Workout",
    "Yoga",
)

# Strava API ActivityType enum: the deprecated `type` field only takes these values.
ACTIVITY_TYPES = frozenset(
    (
        "AlpineSki",
        "BackcountrySki",
        "Canoeing",
        "Crossfit",
        "EBikeRide",
        "Elliptical",
        "Golf",
        "Handcycle",
        "Hike",
        "IceSkate",
        "InlineSkate",
        "Kayaking",
        "Kitesurf",
        "NordicSki",
        "Ride",
        "RockClimbing",
        "RollerSki",
        "Rowing",
        "Run",
        "Sail",
        "Skateboard",
        "Snowboard",
        "Snowshoe",
        "Soccer",
        "StairStepper",
        "StandUpPaddling",
        "Surfing",
        "Swim",
        "Velomobile",
        "VirtualRide",
        "VirtualRun",
        "Walk",
        "WeightTraining",
        "Wheelchair",
        "Windsurf",
        "Workout",
        "Yoga",
    )
)

# Sport types newer than the legacy enum -> the `type` the API reports for them (the parent
# sport; racket sports, HIIT and Pilates fall back to Workout).
LEGACY_TYPE = {
    "TrailRun": "Run",
    "MountainBikeRide": "Ride",
    "GravelRide": "Ride",
    "EMountainBikeRide": "EBikeRide",
    "VirtualRow": "Rowing",
    "Badminton": "Workout",
    "HighIntensityIntervalTraining": "Workout",
    "Pickleball": "Workout",
    "Pilates": "Workout",
    "Racquetball": "Workout",
    "Squash": "Workout",
    "TableTennis": "Workout",
    "Tennis": "Workout",
}

# Display names that are not just the enum value with spaces (keys: lower-case letters and
# digits only). "Canoe" is in the real export; the others are Strava's app labels.
_ALIASES = {
    "canoe": "Canoeing",
    "kayak": "Kayaking",
    "rockclimb": "RockClimbing",
    "surf": "Surfing",
    "hiit": "HighIntensityIntervalTraining",
    "standuppaddle": "StandUpPaddling",
    "football": "Soccer",
    "footballsoccer": "Soccer",
    "inlineskating": "InlineSkate",
    "iceskating": "IceSkate",
    "mountainbike": "MountainBikeRide",
    "emountainbike": "EMountainBikeRide",
    "ebike": "EBikeRide",
    "weightlifting": "WeightTraining",
}

_BY_KEY = {s.lower(): s for s in SPORT_TYPES}
_BY_KEY.update(_ALIASES)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def to_camel(name: str) -> str:
    """'Padel tennis' -> 'PadelTennis': the shape Strava gives enum values."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    return "".join(w[:1].upper() + w[1:] for w in words)


def sport_and_type(display: str | None) -> tuple[str | None, str | None, bool]:
    """Display name -> (sport_type, type, known). Unknown names become CamelCase with known=False."""
    if display is None or not display.strip():
        return None, None, True
    sport = _BY_KEY.get(_key(display))
    known = sport is not None
    if sport is None:
        sport = to_camel(display) or display.strip()
    if sport in ACTIVITY_TYPES:
        legacy = sport
    else:
        legacy = LEGACY_TYPE.get(sport, "Workout")
    return sport, legacy, known
