"""Recognise the layout and language of an activities.csv header and name its columns in English.

A header is read by vocabulary first (every cell that is a column name seen in a real export, in any language,
names its column) and by position second: when the header is as wide as a known layout and its recognised cells
sit where that layout has them, every cell takes the layout's English name, including cells in a language never
seen. A header with no recognisable cell is still read by position when a known layout has its width, and the
caller checks the values (ids and dates) before trusting it. Anything else is an unknown layout.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from strava_pipeline.archive import export_layouts as L

# Header names that changed between exports -> the current name
ALIASES = {"Avg Flow": "Average Flow", "Avg Elapsed Speed": "Average Elapsed Speed"}
# a header is read by position when at least this share of its recognised cells agree with the layout
POSITION_AGREEMENT = 0.8


class UnknownLayout(ValueError):
    """The header matches no known layout; str() is one sentence naming what was seen."""


@dataclass
class Header:
    """English column names by position, how they were found, and the language the header is written in."""

    names: list[str]
    cells: list[str]
    how: str  # 'by name', 'by position (N-column layout)', 'old 10-column layout'
    language: str | None = None  # ISO code of the header's language ('en', 'it'...), None when not recognised
    metres_distance: bool = False  # a single Distance column is in metres (the oldest layout), not display units
    recognised: int = 0  # cells whose name is known
    positions: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        positions: dict[str, list[int]] = {}
        for i, name in enumerate(self.names):
            if name:
                positions.setdefault(name.lower(), []).append(i)
        self.positions = positions

    def copies(self, name: str) -> list[int]:
        return self.positions.get(name.lower(), [])

    @property
    def by_position(self) -> bool:
        return self.how.startswith("by position")


def clean_header(cell: str) -> str:
    """'<span class="translation_missing" ...>Avg Flow</span>' -> 'Avg Flow'."""
    text = html.unescape(re.sub(r"<[^>]*>", "", cell))
    return " ".join(text.split())


def _key(name: str) -> str:
    # case, typographic apostrophes and the spaces around them vary between exports of one language
    return re.sub(r"\s+", " ", name.replace("’", "'").replace("`", "'")).strip().casefold()


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, tuple[str, set[str]]]:
    """folded header name -> (language, English names it stands for)."""
    vocab: dict[str, tuple[str, set[str]]] = {}

    def add(language: str, name: str, english: str) -> None:
        _lang, names = vocab.setdefault(_key(name), (language, set()))
        names.add(ALIASES.get(english, english))

    for layout in L.ENGLISH_LAYOUTS.values():
        for name in layout:
            add("en", name, name)
    for language, cells in L.LOCALIZED_HEADERS:
        for name, english in zip(cells, L.ENGLISH_LAYOUTS[len(cells)]):
            add(language, name, english)
    for language, names in L.PARTIAL_HEADERS.items():
        for name, english in names.items():
            add(language, name, english)
    return vocab


def read_header(raw_cells: list[str]) -> Header:
    """The Header of a raw header row; UnknownLayout when it is no activities.csv layout known."""
    cells = [clean_header(c) for c in raw_cells]
    while cells and not cells[-1]:  # a trailing separator adds an empty cell
        cells.pop()
    width = len(cells)
    keys = [_key(c) for c in cells]
    if keys and keys == [_key(n) for n in L.OLD_10]:
        return Header([L.OLD_NAMES[n] for n in L.OLD_10], cells, "old 10-column layout", "en", metres_distance=True)
    vocab = vocabulary()
    found = [vocab.get(k) for k in keys]
    recognised = sum(1 for f in found if f)
    languages = Counter(f[0] for f in found if f and f[0] != "en")
    language = languages.most_common(1)[0][0] if languages else ("en" if recognised else None)
    layout = L.ENGLISH_LAYOUTS.get(width)
    if layout is not None:
        agree = sum(1 for f, name in zip(found, layout) if f and ALIASES.get(name, name) in f[1])
        if recognised == 0 or agree >= POSITION_AGREEMENT * recognised:
            names = [ALIASES.get(n, n) for n in layout]
            return Header(names, cells, f"by position ({width}-column layout)", language, recognised=recognised)
    names = [next(iter(f[1])) if f and len(f[1]) == 1 else "" for f in found]
    header = Header(names, cells, "by name", language, recognised=recognised)
    if header.copies("Activity ID") and header.copies("Activity Date"):
        return header
    raise UnknownLayout(describe(cells))


def describe(cells: list[str]) -> str:
    shown = ", ".join(repr(c[:40]) for c in cells[:4])
    return f"unknown activities.csv layout ({len(cells)} columns, first headers {shown})"
