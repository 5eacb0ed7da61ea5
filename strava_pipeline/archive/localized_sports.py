"""Activity types as localized exports write them ('Corsa', 'Radfahrt', 'Course à pied') -> Strava's sport_type.

No library knows Strava's sport labels, so this is a table. Each language's names are marked by where they were
seen: in real exports (EXPORT-LAYOUTS.md, public issues with pasted rows, parsers written against their authors'
exports) or in Strava's app labels as other tools copied them. A name not found here is not guessed: the row keeps
the raw name in archive_fields, is listed in the import summary and gets the sport_type 'Workout'.
"""

from __future__ import annotations

# language -> {display name: sport_type}
LOCALIZED_SPORTS: dict[str, dict[str, str]] = {
    # Italian: Corsa, Ciclismo in EXPORT-LAYOUTS.md; the rest are Strava's Italian app labels
    "it": {
        "Corsa": "Run",
        "Ciclismo": "Ride",
        "Giro in bici": "Ride",
        "Nuoto": "Swim",
        "Camminata": "Walk",
        "Escursione": "Hike",
        "Escursionismo": "Hike",
        "Allenamento": "Workout",
        "Sollevamento pesi": "WeightTraining",
        "Allenamento con i pesi": "WeightTraining",
        "Corsa virtuale": "VirtualRun",
        "Ciclismo virtuale": "VirtualRide",
        "Giro in bici virtuale": "VirtualRide",
        "Corsa su sentiero": "TrailRun",
        "Trail running": "TrailRun",
        "Mountain bike": "MountainBikeRide",
        "Giro in mountain bike": "MountainBikeRide",
        "Giro in bici gravel": "GravelRide",
        "Giro in e-bike": "EBikeRide",
        "Sci alpino": "AlpineSki",
        "Sci nordico": "NordicSki",
        "Sci di fondo": "NordicSki",
        "Sci alpinismo": "BackcountrySki",
        "Canottaggio": "Rowing",
        "Canoa": "Canoeing",
        "Vela": "Sail",
        "Racchette da neve": "Snowshoe",
        "Arrampicata": "RockClimbing",
        "Pattinaggio su ghiaccio": "IceSkate",
        "Pattinaggio in linea": "InlineSkate",
        "Calcio": "Soccer",
    },
    # Dutch: Hardloopsessie, Fietsrit in EXPORT-LAYOUTS.md; the rest are Strava's Dutch app labels
    "nl": {
        "Hardloopsessie": "Run",
        "Fietsrit": "Ride",
        "Zwemsessie": "Swim",
        "Zwemmen": "Swim",
        "Wandeling": "Walk",
        "Wandelen": "Walk",
        "Hike": "Hike",
        "Hiken": "Hike",
        "Training": "Workout",
        "Krachttraining": "WeightTraining",
        "Virtuele fietsrit": "VirtualRide",
        "Virtuele hardloopsessie": "VirtualRun",
        "Trailrun": "TrailRun",
        "Mountainbikerit": "MountainBikeRide",
        "Gravelrit": "GravelRide",
        "E-bikerit": "EBikeRide",
        "Roeien": "Rowing",
        "Kajakken": "Kayaking",
        "Alpineskiën": "AlpineSki",
        "Langlaufen": "NordicSki",
        "Schaatsen": "IceSkate",
        "Zeilen": "Sail",
    },
    # German: a table written against a real German export, checked against a second one (Lauf, Radfahrt in rows)
    "de": {
        "Lauf": "Run",
        "Radfahrt": "Ride",
        "Wandern": "Hike",
        "Wanderung": "Hike",
        "Spaziergang": "Walk",
        "Gewichtstraining": "WeightTraining",
        "Krafttraining": "WeightTraining",
        "Training": "Workout",
        "Schwimmen": "Swim",
        "Ski Alpin": "AlpineSki",
        "Skitouren": "BackcountrySki",
        "Snowboarden": "Snowboard",
        "Crossfit": "Crossfit",
        "Virtuelle Radfahrt": "VirtualRide",
        "Virtueller Lauf": "VirtualRun",
        "Mountainbikefahrt": "MountainBikeRide",
        "Gravelfahrt": "GravelRide",
        "E-Bike-Fahrt": "EBikeRide",
        "E-Bike-Radfahrt": "EBikeRide",
        "E-Mountainbike-Fahrt": "EMountainBikeRide",
        "Traillauf": "TrailRun",
        "Yoga": "Yoga",
        "HIIT": "HighIntensityIntervalTraining",
        "Rudern": "Rowing",
        "Kanufahrt": "Canoeing",
        "Kajakfahren": "Kayaking",
        "Eislaufen": "IceSkate",
        "Langlauf": "NordicSki",
        "Schneeschuhwanderung": "Snowshoe",
        "Ellipsentrainer": "Elliptical",
        "Tennis": "Tennis",
        "Pickleball": "Pickleball",
        "Klettern": "RockClimbing",
        "Inlineskaten": "InlineSkate",
        "Golf": "Golf",
        "Skateboard": "Skateboard",
        "Fußball": "Soccer",
        "Pilates": "Pilates",
        "Stand Up Paddling": "StandUpPaddling",
        "Surfen": "Surfing",
        "Windsurfen": "Windsurf",
        "Kitesurfen": "Kitesurf",
        "Segeln": "Sail",
    },
    # French: the first six in code reading real French exports; the rest are Strava's French app labels
    "fr": {
        "Course à pied": "Run",
        "Vélo": "Ride",
        "Sortie à vélo": "Ride",
        "Vélo virtuel": "VirtualRide",
        "Natation": "Swim",
        "Marche": "Walk",
        "Randonnée": "Hike",
        "Course virtuelle": "VirtualRun",
        "Entraînement": "Workout",
        "Entraînement aux poids": "WeightTraining",
        "Musculation": "WeightTraining",
        "Trail": "TrailRun",
        "VTT": "MountainBikeRide",
        "Vélo gravel": "GravelRide",
        "Vélo électrique": "EBikeRide",
        "Ski alpin": "AlpineSki",
        "Ski de fond": "NordicSki",
        "Ski nordique": "NordicSki",
        "Ski de randonnée": "BackcountrySki",
        "Aviron": "Rowing",
        "Voile": "Sail",
        "Raquettes": "Snowshoe",
        "Escalade": "RockClimbing",
    },
    # Spanish: the first eight in a real export's analysis; Senderismo and Remo in a tool that writes the CSV
    "es": {
        "Carrera": "Run",
        "Carrera virtual": "VirtualRun",
        "Bicicleta": "Ride",
        "Bicicleta virtual": "VirtualRide",
        "Caminata": "Walk",
        "Natación": "Swim",
        "Entrenamiento": "Workout",
        "Entrenamiento con pesas": "WeightTraining",
        "Senderismo": "Hike",
        "Excursión": "Hike",
        "Remo": "Rowing",
        "Carrera por montaña": "TrailRun",
        "Bicicleta de montaña": "MountainBikeRide",
        "Bicicleta eléctrica": "EBikeRide",
        "Esquí alpino": "AlpineSki",
        "Esquí nórdico": "NordicSki",
    },
    # Portuguese (Brazil): Strava's app labels as other tools copied them, not yet seen in an export
    "pt": {
        "Corrida": "Run",
        "Pedalada": "Ride",
        "Pedalada virtual": "VirtualRide",
        "Corrida virtual": "VirtualRun",
        "Caminhada": "Walk",
        "Trilha": "Hike",
        "Natação": "Swim",
        "Treino": "Workout",
        "Musculação": "WeightTraining",
        "Ciclismo": "Ride",
    },
    # Russian, Chinese and Korean: Strava's app labels, not yet seen in an export
    "ru": {
        "Бег": "Run",
        "Забег": "Run",
        "Велозаезд": "Ride",
        "Заезд": "Ride",
        "Плавание": "Swim",
        "Заплыв": "Swim",
        "Ходьба": "Walk",
        "Прогулка": "Walk",
        "Поход": "Hike",
        "Тренировка": "Workout",
        "Силовая тренировка": "WeightTraining",
        "Виртуальный велозаезд": "VirtualRide",
        "Виртуальный забег": "VirtualRun",
        "Йога": "Yoga",
    },
    "zh": {
        "跑步": "Run",
        "骑行": "Ride",
        "騎乘": "Ride",
        "騎車": "Ride",
        "游泳": "Swim",
        "步行": "Walk",
        "徒步": "Hike",
        "健行": "Hike",
        "训练": "Workout",
        "訓練": "Workout",
        "锻炼": "Workout",
        "重量训练": "WeightTraining",
        "重量訓練": "WeightTraining",
        "虚拟骑行": "VirtualRide",
        "虛擬騎乘": "VirtualRide",
        "虚拟跑步": "VirtualRun",
        "虛擬跑步": "VirtualRun",
        "瑜伽": "Yoga",
    },
    "ko": {
        "달리기": "Run",
        "라이딩": "Ride",
        "수영": "Swim",
        "걷기": "Walk",
        "하이킹": "Hike",
        "운동": "Workout",
        "웨이트 트레이닝": "WeightTraining",
        "가상 라이딩": "VirtualRide",
        "가상 달리기": "VirtualRun",
        "요가": "Yoga",
    },
    # Japanese: ランニング in a fixture of a tool reading localized exports; the rest are Strava's app labels
    "ja": {
        "ランニング": "Run",
        "ライド": "Ride",
        "水泳": "Swim",
        "ウォーキング": "Walk",
        "ウォーク": "Walk",
        "ハイキング": "Hike",
        "ワークアウト": "Workout",
        "ウェイトトレーニング": "WeightTraining",
        "バーチャルライド": "VirtualRide",
        "バーチャルラン": "VirtualRun",
        "ヨガ": "Yoga",
    },
}


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


_BY_NAME: dict[str, dict[str, str]] = {
    lang: {_fold(k): v for k, v in names.items()} for lang, names in LOCALIZED_SPORTS.items()
}


def localized_sport(display: str, language: str | None) -> str | None:
    """The sport_type of a localized activity type name: the header's language first, then every language."""
    key = _fold(display)
    if language and language in _BY_NAME and key in _BY_NAME[language]:
        return _BY_NAME[language][key]
    for names in _BY_NAME.values():
        if key in names:
            return names[key]
    return None
