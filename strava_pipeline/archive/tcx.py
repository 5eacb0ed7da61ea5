"""Read a TCX activity file (bytes) into a stream table with the standard library's XML pull parser.

Decisions, from the real files (see the reference NOTES.md):
- Elements are matched by local name, so any namespace prefix works (ns3:TPX, a default
  xmlns on <TPX>, no namespace at all).
- Every <Trackpoint> of every Lap/Track/Activity becomes a point in file order. <Position>,
  <AltitudeMeters>, <DistanceMeters> and <HeartRateBpm> are optional per point (stopped_example.tcx
  has 69 points without a position; test.tcx ends with a point that has only a <Time>).
- cadence is <Cadence>, else the extension <RunCadence>; speed is TPX <Speed>, power TPX <Watts>.
- distance is <DistanceMeters> when the file has it, else cumulative haversine along the fixes.
- sport is the Activity's Sport attribute as written ("Running", "Biking", "Other"); device is
  the Activity's <Creator><Name>.
- The parser is incremental: a document cut short (truncated .gz) keeps every complete
  <Trackpoint> before the cut, with damaged=True.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree.ElementTree import ParseError, XMLPullParser

from strava_pipeline.archive.streams import build_track
from strava_pipeline.archive.types import TrackResult, failed
from strava_pipeline.archive.xmltext import decode_xml, local_name, refuse_dtd, root_name

_CHUNK = 1 << 16


def parse_tcx(data: bytes) -> TrackResult:
    """TCX bytes -> TrackResult. Never raises for bad data: damaged=True and a warning instead."""
    if not data or not data.strip():
        return failed("empty file: not a TCX file")
    warnings: list[str] = []
    text = decode_xml(data, warnings)
    if root_name(text[:4096]) != "TrainingCenterDatabase":
        return _failed_with(warnings, "not a TCX file (no <TrainingCenterDatabase> root element)")
    reason = refuse_dtd(text)
    if reason:
        return _failed_with(warnings, reason)

    cols: dict[str, list] = {
        k: [] for k in ("epoch", "lat", "lng", "altitude", "distance", "speed", "heartrate", "cadence", "watts")
    }
    sport: str | None = None
    device: str | None = None
    bad_times = 0
    damaged = False
    laps: dict[str, float] = {}  # the Laps' declared totals, summed

    parser = XMLPullParser(events=("start", "end"))
    names: list[str] = []  # local names of the open elements
    elems: list = []
    try:
        for offset in range(0, len(text), _CHUNK):
            parser.feed(text[offset : offset + _CHUNK])
            for event, elem in parser.read_events():
                if event == "start":
                    name = local_name(elem.tag)
                    names.append(name)
                    elems.append(elem)
                    if name == "Activity" and sport is None:
                        sport = (elem.get("Sport") or "").strip() or None
                    continue
                name = names.pop()
                elems.pop()
                if name == "Trackpoint":
                    if not _read_trackpoint(elem, cols):
                        bad_times += 1
                    if elems:  # drop the finished point so memory stays flat on big files
                        elems[-1].remove(elem)
                elif (
                    name == "Name"
                    and len(names) >= 2
                    and names[-1] == "Creator"
                    and names[-2] == "Activity"
                    and device is None
                ):
                    device = (elem.text or "").strip() or None
                elif names and (names[-1] == "Lap" or (name == "Value" and len(names) >= 2 and names[-2] == "Lap")):
                    _add_lap_value(name if names[-1] == "Lap" else names[-1], elem.text, laps)
        parser.close()
    except ParseError as exc:
        damaged = True
        warnings.append(
            f"TCX is cut short or malformed ({exc}); kept the {len(cols['epoch'])} trackpoints before the damage"
        )

    n = len(cols["epoch"])
    if n == 0:
        warnings.append("TCX has no trackpoints")
    if bad_times:
        warnings.append(f"{bad_times} trackpoints without a readable <Time>; their time is left null")

    epoch = cols.pop("epoch")
    table, start = build_track(epoch=epoch, warnings=warnings, **cols)
    return TrackResult(
        table=table,
        start_time_utc=start,
        sport=sport,
        device=device,
        warnings=warnings,
        damaged=damaged,
        summary=_lap_summary(laps),
    )


# <Lap> children -> how they combine over laps: totals add up, maxima take the largest
_LAP_TOTALS = {"TotalTimeSeconds": "moving_time", "DistanceMeters": "distance", "Calories": "calories"}
_LAP_MAXIMA = {"MaximumSpeed": "max_speed", "MaximumHeartRateBpm": "max_heartrate"}


def _add_lap_value(name: str, text: str | None, laps: dict[str, float]) -> None:
    value = _float(text)
    if value is None:
        return
    if name in _LAP_TOTALS:
        laps[name] = laps.get(name, 0.0) + value
    elif name in _LAP_MAXIMA:
        laps[name] = max(laps.get(name, value), value)
    elif name == "AverageHeartRateBpm":
        # weighted by the lap's time when the lap said it first (TotalTimeSeconds precedes it in the schema)
        laps["_hr_weighted"] = laps.get("_hr_weighted", 0.0) + value * laps.get("_lap_time", 1.0)
        laps["_hr_weight"] = laps.get("_hr_weight", 0.0) + laps.get("_lap_time", 1.0)
    if name == "TotalTimeSeconds":
        laps["_lap_time"] = value


def _lap_summary(laps: dict[str, float]) -> dict:
    """What the laps declare, under the API's field names: TotalTimeSeconds is the lap's timer (pauses out)."""
    out = {key: laps[name] for name, key in {**_LAP_TOTALS, **_LAP_MAXIMA}.items() if name in laps}
    if laps.get("_hr_weight"):
        out["average_heartrate"] = laps["_hr_weighted"] / laps["_hr_weight"]
    return out


def _read_trackpoint(tp, cols: dict[str, list]) -> bool:
    """Append one <Trackpoint> to the columns; False when its time is missing or unreadable."""
    values: dict[str, float | None] = {}
    epoch = None
    cadence = None
    run_cadence = None
    for child in tp:
        name = local_name(child.tag)
        if name == "Time":
            epoch = _epoch(child.text)
        elif name == "Position":
            for sub in child:
                sub_name = local_name(sub.tag)
                if sub_name == "LatitudeDegrees":
                    values["lat"] = _float(sub.text)
                elif sub_name == "LongitudeDegrees":
                    values["lng"] = _float(sub.text)
        elif name == "AltitudeMeters":
            values["altitude"] = _float(child.text)
        elif name == "DistanceMeters":
            values["distance"] = _float(child.text)
        elif name == "HeartRateBpm":
            for sub in child.iter():
                if local_name(sub.tag) == "Value":
                    values["heartrate"] = _float(sub.text)
                    break
        elif name == "Cadence":
            cadence = _float(child.text)
        elif name == "Extensions":
            for sub in child.iter():
                sub_name = local_name(sub.tag)
                if sub_name == "Speed":
                    values.setdefault("speed", _float(sub.text))
                elif sub_name == "Watts":
                    values.setdefault("watts", _float(sub.text))
                elif sub_name == "RunCadence":
                    run_cadence = _float(sub.text)
    values["cadence"] = cadence if cadence is not None else run_cadence
    cols["epoch"].append(epoch)
    for key in ("lat", "lng", "altitude", "distance", "speed", "heartrate", "cadence", "watts"):
        cols[key].append(values.get(key))
    return epoch is not None


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _epoch(text: str | None) -> float | None:
    """ISO 8601 time ('...Z', '.000Z', '+01:00') -> UTC epoch seconds; a time without zone is UTC."""
    if not text:
        return None
    text = text.strip()
    try:
        dt = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _failed_with(warnings: list[str], reason: str) -> TrackResult:
    result = failed(reason)
    result.warnings = warnings + result.warnings
    return result
