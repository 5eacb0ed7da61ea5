"""Read activities.csv dates and numbers written in any language Strava exports in, with CLDR data from babel.

Strava writes `Activity Date` in the account's language with CLDR's medium date-time format (English
`Jan 5, 2024, 7:03:12 AM`, Italian `5 gen 2024, 07:03:12`, Dutch `5 jan 2024, 07:03:12`: exactly babel's
`format_datetime(dt, "medium", locale)`), and numbers with the language's decimal and group symbols. Month names,
day periods (AM/PM, 上午, 오후...), date-field order and number symbols all come from babel's CLDR data; nothing here
is a hand-written month table.

What babel does not do is the reverse: `babel.dates.parse_date` reads numeric dates only (no month names, no time,
no day periods), and Strava's servers may run another CLDR version than the installed babel (`Sep` vs `Sept`,
`gen` vs `gen.`). So the parser below is written by hand on top of babel's data: it finds the time, the year, a
month name (by exact name or unique prefix, dots ignored) or the numeric month by the locale's field order, and a
day period, in whatever order and with whatever literals the locale uses. dateparser was tried for this and
rejected: it guesses the language per value, so one export could be read with two different day/month orders.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import cache

from babel import Locale
from babel.dates import get_period_id

# The languages Strava's settings offer, plus close variants and neighbours a profile may be set to; the first
# ones are tried first when nothing else decides between two locales that read a file equally well.
STRAVA_LOCALES = (
    "en_US", "en_GB", "de", "fr", "es", "es_419", "it", "nl", "pt_BR", "pt_PT", "ru", "ja", "zh_Hans",
    "zh_Hant", "ko", "pl", "sv", "da", "nb", "fi", "cs", "tr", "uk", "id", "th", "vi", "ca", "el", "hu",
    "ro", "sk", "sl", "hr", "he", "ar", "de_CH", "fr_CA", "en_AU",
)  # fmt: skip

# h:mm:ss, h.mm.ss (Danish, Finnish), "21 h 28 min 07 s" (Canadian French)
_TIME = re.compile(r"(?<![\d.:])(\d{1,2})(?:[:.]| ?h ?)(\d{2})(?:(?:[:.]| ?min ?)(\d{2})(?: ?s\b)?)?(?![\d:])(?!\.\d)")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]+")
_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2009\u2007 '’"), None)  # group symbols that are spaces/quotes


def _fold(text: str) -> str:
    """Case-folded, accents kept, dots and spaces removed: 'Sept.' -> 'sept', 'a. m.' -> 'am'."""
    return re.sub(r"[\s.]", "", unicodedata.normalize("NFKC", text).casefold())


@dataclass
class DateReader:
    """Parses one locale's medium date-times; build it with date_reader(locale)."""

    locale: str
    month_names: dict[str, int]  # folded exact names -> month
    month_prefixes: list[tuple[str, int]]  # folded wide names, for unique-prefix matches ('sept' -> 9)
    periods: list[tuple[str, str]]  # folded day-period names, longest first -> CLDR period id
    literals: list[str]  # folded words of the locale's patterns ('de', 'г', '年', 'à'), longest first
    numeric_order: str  # 'dmy', 'mdy' or 'ymd': how numeric dates are ordered in this locale
    named_month: bool  # the medium pattern spells the month (MMM): a numeric-only date is not this locale's
    _am_pm: dict[tuple[str, int], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._period_by_name = dict(self.periods)
        self._longest_first = sorted(
            ((n, m) for n, m in self.month_names.items() if len(n) >= 2), key=lambda nm: -len(nm[0])
        )

    def parse(self, text: str | None) -> datetime | None:
        """A naive datetime (the export's clock: UTC) or None when the text is not a date of this locale.

        Every word of the text must be a month name, a day period or a word of the locale's patterns: a
        Chinese 晚上 (evening) is not silently ignored by the Japanese reader, so the locale that reads a
        file is the one that understands all of it."""
        if not text or not text.strip():
            return None
        value = unicodedata.normalize("NFKC", text).strip()
        if _ISO.match(value):
            return _iso(value)
        times = list(_TIME.finditer(value))
        if not times:
            return None
        # Strava always writes seconds; prefer a match that has them (a numeric date like 05.01.2024 never does)
        t = next((m for m in reversed(times) if m.group(3)), times[-1])
        hour, minute, second = int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)
        rest = value[: t.start()] + " " + value[t.end() :]
        numbers = [(m.start(), m.group()) for m in _NUMBER.finditer(rest)]
        years = [(pos, n) for pos, n in numbers if len(n) == 4]
        if len(years) != 1:
            return None
        year_pos, year = years[0]
        small = [(pos, int(n)) for pos, n in numbers if pos != year_pos and len(n) <= 2]
        residue = _fold(re.sub(r"\d", " ", rest))
        month, month_key = self._month(_WORD.findall(rest), residue)
        if month_key:
            residue = residue.replace(month_key, "", 1)
        if month is not None:
            if len(small) != 1:
                return None
            day = small[0][1]
        else:
            if self.named_month or len(small) != 2:
                return None
            order = "ymd" if year_pos < small[0][0] else self.numeric_order
            first, second_ = small[0][1], small[1][1]
            month, day = (second_, first) if order == "dmy" else (first, second_)
        period, period_key = self._period(rest, residue)
        if period_key:
            residue = residue.replace(period_key, "", 1)
        for literal in self.literals:
            residue = residue.replace(literal, "")
        if re.sub(r"[\W_]", "", residue):
            return None  # a word this locale does not write
        if period is not None:
            if not 1 <= hour <= 12:
                return None
            hour = self._resolve_hour(period, hour)
        try:
            return datetime(int(year), month, day, hour, minute, second)
        except ValueError:
            return None

    def _month(self, words: list[str], folded: str) -> tuple[int | None, str | None]:
        """(month, the folded text that named it): a word by exact name or unique prefix ('sept' -> 9)."""
        for word in words:
            key = _fold(word)
            if not key:
                continue
            month = self.month_names.get(key)
            if month is None and len(key) >= 3:
                hits = {m for name, m in self.month_prefixes if name.startswith(key)}
                month = hits.pop() if len(hits) == 1 else None
            if month is not None:
                return month, key
        # scripts whose abbreviations hold dots and combining marks (Thai ม.ค.) do not split into words
        for name, month in self._longest_first:
            if name in folded:
                return month, name
        return None, None

    def _period(self, rest: str, folded: str) -> tuple[str | None, str | None]:
        """(CLDR period id, the folded text that named it) of a day period in the text, if any."""
        for word in _WORD.findall(rest):  # a whole word first: one-letter periods (Arabic ص/م) only so
            key = _fold(word)
            period = self._period_by_name.get(key)
            if period is not None:
                return period, key
        for name, period in self.periods:  # then inside the text: 'a. m.', 'de la tarde', 清晨7 (no space)
            if len(name) >= 2 and name in folded:
                return period, name
        return None, None

    def _resolve_hour(self, period: str, hour: int) -> int:
        """12-hour clock + CLDR period id -> 0..23: 'am'/'pm' directly, others ('morning2', 'evening1'...) by
        asking babel which of the two candidate hours falls in that period."""
        key = (period, hour)
        if key not in self._am_pm:
            am, pm = hour % 12, hour % 12 + 12
            if period == "am":
                chosen = am
            elif period == "pm":
                chosen = pm
            elif get_period_id(time(pm), locale=self.locale) == period:
                chosen = pm
            else:
                chosen = am
            self._am_pm[key] = chosen
        return self._am_pm[key]


def _iso(value: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


@cache
def date_reader(locale: str) -> DateReader:
    """The DateReader of a CLDR locale ('it', 'pt_BR', 'zh_Hant'...), built from babel's data once."""
    loc = Locale.parse(locale)
    names: dict[str, int] = {}
    prefixes: list[tuple[str, int]] = []
    for context in ("format", "stand-alone"):
        for width in ("abbreviated", "wide"):
            for month, name in loc.months[context][width].items():
                key = _fold(name)
                if key and not any(c.isdigit() for c in key):  # Vietnamese 'thg 1' is a numeric month
                    names.setdefault(key, month)
                    if width == "wide":
                        prefixes.append((key, month))
    periods: dict[str, str] = {}
    for context in ("format", "stand-alone"):
        for width in ("abbreviated", "wide"):
            for period, name in loc.day_periods.get(context, {}).get(width, {}).items():
                key = _fold(name)
                # am/pm win over the finer periods that share their word (zh: 上午 is both 'am' and 'morning2')
                if key and (key not in periods or period in ("am", "pm")):
                    periods[key] = period
    pattern = loc.date_formats["medium"].pattern
    short = loc.date_formats["short"].pattern
    return DateReader(
        locale=locale,
        month_names=names,
        month_prefixes=prefixes,
        periods=sorted(periods.items(), key=lambda kv: -len(kv[0])),
        literals=_literals(loc),
        numeric_order=_field_order(short if "MMM" in pattern else pattern),
        named_month="MMM" in pattern and len(set(names.values())) == 12,
    )


# Words older CLDR versions put between date and time that babel's data no longer has: older French exports
# write "5 janv. 2024 à 07:03:12" (seen in code reading real French exports).
_OLDER_CLDR_WORDS = {"fr": ("à",)}


def _literals(loc: Locale) -> list[str]:
    """The words a locale's date and time patterns write besides the fields, folded, longest first: quoted
    text ('de', 'г'., 'à') and unquoted letters that are no pattern field (年, 月, 日), plus the particles of
    month names (Catalan 'de gen.') and the letters of month names that are numbers (Vietnamese 'thg 1')."""
    patterns = []
    for formats in (loc.date_formats, loc.time_formats, loc.datetime_formats):
        for width in ("short", "medium", "long", "full"):
            p = formats.get(width)
            patterns.append(str(getattr(p, "pattern", p) or ""))
    words: set[str] = set()
    for p in patterns:
        for quoted in re.findall(r"'([^']+)'", p):
            words.update(_fold(w) for w in _WORD.findall(quoted))
        bare = re.sub(r"'[^']*'|[A-Za-z]", " ", p)
        words.update(_fold(w) for w in _WORD.findall(bare))
    for context in ("format", "stand-alone"):
        for width in ("abbreviated", "wide"):
            months_of_word: dict[str, set[int]] = {}
            for month, name in loc.months[context][width].items():
                for w in _WORD.findall(name):
                    months_of_word.setdefault(_fold(w), set()).add(month)
                if any(c.isdigit() for c in name):
                    words.update(_fold(w) for w in _WORD.findall(name))
            # a word shared by several month names is a particle, not a month (Catalan 'de gen.', "d’abr.")
            words.update(w for w, months in months_of_word.items() if len(months) > 1)
    words.update(_OLDER_CLDR_WORDS.get(loc.language, ()))
    return sorted((w for w in words if w), key=lambda w: -len(w))


def _field_order(pattern: str) -> str:
    """'dd/MM/y' -> 'dmy', 'y/MM/dd' -> 'ymd', 'M/d/yy' -> 'mdy' (quoted literals ignored)."""
    bare = re.sub(r"'[^']*'", "", pattern)
    positions = {f: bare.find(f) for f in "yMd"}
    return "".join(sorted((f for f in positions if positions[f] >= 0), key=positions.get)).lower()


def choose_date_locale(samples: list[str], preferred: tuple[str, ...] = ()) -> tuple[str | None, int]:
    """The locale that reads the most sample dates (ties: `preferred` first, then STRAVA_LOCALES' order), and how
    many it read. (None, 0) when no locale reads any."""
    order = list(dict.fromkeys([*preferred, *STRAVA_LOCALES]))
    best, best_n = None, 0
    for locale in order:
        reader = date_reader(locale)
        n = sum(1 for s in samples if reader.parse(s) is not None)
        if n > best_n:
            best, best_n = locale, n
            if n == len(samples):
                break
    return best, best_n


# ------------------------------------------------------------------------------------------------------- numbers


def decimal_symbol(locale: str) -> str:
    """'.' or ',': the decimal symbol of the locale's Latin digits."""
    symbols = Locale.parse(locale).number_symbols
    latn = symbols.get("latn", symbols) if hasattr(symbols, "get") else symbols
    return latn.get("decimal", ".")


_DOT_DECIMAL = re.compile(r"^-?\d+\.(\d{1,2}|\d{4,})$|^-?\d{4,}\.\d+$|^-?\d+(\.\d+)?[eE][-+]?\d+$")
_COMMA_DECIMAL = re.compile(r"^-?\d+,(\d{1,2}|\d{4,})$|^-?\d{4,},\d+$|^-?\d{1,3}(\.\d{3})+,\d+$")


def column_decimal(values, locale_decimal: str) -> str:
    """The decimal symbol one column of a file uses: what its values show where they are unambiguous, else the
    locale's. (Strava writes some columns of a localized export with the locale's symbols, e.g. Italian `12,34`
    and `1.050`, and may write others as plain floats; `1.050` alone cannot tell.)"""
    dot = comma = False
    for v in values:
        if not v:
            continue
        s = v.translate(_SPACES)
        dot = dot or bool(_DOT_DECIMAL.match(s))
        comma = comma or bool(_COMMA_DECIMAL.match(s))
        if dot and comma:
            break
    if dot != comma:
        return "." if dot else ","
    return locale_decimal


def parse_number(value: str | None, decimal: str = ".") -> float | None:
    """A number written with `decimal` as its decimal symbol and the other of '.'/',' (or a space) grouping
    thousands: '1,250' -> 1250.0 ('.'), '1.050' -> 1050.0 and '12,34' -> 12.34 (','). A lone other symbol
    that cannot be grouping ('13609.2001953125' in a ',' file) is read as the decimal point. None for empty;
    ValueError when it is not a number."""
    if value is None:
        return None
    s = value.strip().translate(_SPACES).replace("\u2212", "-")
    if not s:
        return None
    group = "," if decimal == "." else "."
    if group in s:
        head, _, tail = s.partition(decimal)
        if re.fullmatch(rf"-?\d{{1,3}}(\{group}\d{{3}})+", head) and (not tail or tail.isdigit()):
            s = head.replace(group, "") + (f".{tail}" if tail else "")
        elif decimal not in s and s.count(group) == 1:
            s = s.replace(group, ".")  # a plain float in a file whose locale writes the other symbol
        else:
            raise ValueError(value)
    elif decimal != ".":
        s = s.replace(decimal, ".")
    x = float(s)
    if x != x or x in (float("inf"), float("-inf")):
        return None
    return x
