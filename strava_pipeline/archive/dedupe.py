"""One activity per recording, whatever the source: the API, a bulk-export archive, or a loose device file.

The rule (README, "One activity per recording"):
- Two rows are the same recording when they start within MATCH_TOLERANCE_S seconds of each other and their sports
  are compatible (file_sports.compatible_sports: same family, or one side unknown or generic), or when two files
  have the same content (sha256 of the decompressed bytes; the same start second gives the same id anyway).
- Precedence for the summary row: API > archive > file. API and archive rows share Strava's id, so the API's row
  simply replaces the archive's (merge on id); a file row has its own negative id (file_rows) and is never written
  when the recording is already there.
- A file that matches a loaded activity adds no activity; it only fills what is missing: the streams of an activity
  that has none (an API run with --no-streams, an archive row without a file), loaded under that activity's id with
  source 'file' and a fetch_log row (kind 'streams', status 'file') so the API does not ask for them again.
- A file loaded first and the same recording arriving later from the API or an archive: the file row is superseded.
  supersede_file_rows() moves its streams to the winner when the winner has none, then deletes the file row; every
  file and archive import runs it first. Until then (an API run in between) the staging model
  stg_strava__activities leaves such file rows out by the same rule, so the marts count the recording once.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime

from strava_pipeline.archive.file_sports import compatible_sports
from strava_pipeline.loads import column_exists, table_exists

MATCH_TOLERANCE_S = 60.0
FILE_SOURCE = "file"
# fetch_log status of streams a file supplied
FILE_FETCH_STATUS = "file"
_RANK = {"api": 0, "archive": 1, FILE_SOURCE: 2}


@dataclass
class Known:
    """An activity already in the warehouse (or added earlier in this run)."""

    id: int
    start: float | None  # UTC epoch seconds
    sport_type: str | None
    source: str  # 'api', 'archive' or 'file'
    has_streams: bool
    deleted: bool = False
    athlete_id: int | None = None
    sha256: str | None = None


class RecordingIndex:
    """Activities by start time, to find the one a new recording duplicates."""

    def __init__(self, known: list[Known] | None = None) -> None:
        self._starts: list[float] = []
        self._items: list[Known] = []
        self.by_id: dict[int, Known] = {}
        self.by_sha: dict[str, Known] = {}
        for k in known or []:
            self.add(k)

    def add(self, k: Known) -> None:
        self.by_id[k.id] = k
        if k.sha256:
            self.by_sha.setdefault(k.sha256, k)
        if k.start is not None:
            i = bisect.bisect(self._starts, k.start)
            self._starts.insert(i, k.start)
            self._items.insert(i, k)

    def match(
        self,
        start: float | None,
        sport_type: str | None,
        sha256: str | None = None,
        id_: int | None = None,
        athlete_id: int | None = None,
    ):
        """The activity this recording is, by precedence (API, archive, file) then nearest start; None if new.
        With `athlete_id`, only that athlete's activities (or those of no known athlete) are candidates."""

        def theirs(k: Known) -> bool:
            return athlete_id is None or k.athlete_id is None or k.athlete_id == athlete_id

        if sha256 and sha256 in self.by_sha and theirs(self.by_sha[sha256]):
            return self.by_sha[sha256]
        if id_ is not None and id_ in self.by_id and theirs(self.by_id[id_]):
            return self.by_id[id_]
        if start is None:
            return None
        lo = bisect.bisect_left(self._starts, start - MATCH_TOLERANCE_S)
        hi = bisect.bisect_right(self._starts, start + MATCH_TOLERANCE_S)
        candidates = [k for k in self._items[lo:hi] if compatible_sports(k.sport_type, sport_type) and theirs(k)]
        if not candidates:
            return None
        return min(candidates, key=lambda k: (_RANK.get(k.source, 0), abs(k.start - start)))


def _epoch(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return datetime.strptime(str(value)[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()


def load_index(sql) -> RecordingIndex:
    """Every activity in the warehouse, with whether it has streams (points, or a fetch_log 'streams' row)."""
    if not table_exists(sql, "activities"):
        return RecordingIndex()
    t = sql.make_qualified_table_name
    with_streams: set[int] = set()
    if table_exists(sql, "activity_streams"):
        with_streams |= {
            int(r[0]) for r in sql.execute_sql(f"select distinct activity_id from {t('activity_streams')}")
        }
    if table_exists(sql, "fetch_log"):
        with_streams |= {
            int(r[0]) for r in sql.execute_sql(f"select activity_id from {t('fetch_log')} where kind = 'streams'") or []
        }
    has = lambda c: column_exists(sql, "activities", c)  # noqa: E731
    source = "coalesce(source, 'api')" if has("source") else "'api'"
    deleted = "coalesce(deleted, false)" if has("deleted") else "false"
    sport = "coalesce(sport_type, type)" if has("sport_type") and has("type") else "null"
    # ->> reads a JSON field in DuckDB and PostgreSQL alike
    sha = "archive_fields ->> 'sha256'" if has("archive_fields") else "null"
    rows = sql.execute_sql(
        f"select id, start_date, {sport}, {source}, {deleted}, athlete_id, {sha} from {t('activities')}"
    )
    index = RecordingIndex(
        [
            Known(int(i), _epoch(start), sp, src, int(i) in with_streams, bool(dl), ath, sh)
            for i, start, sp, src, dl, ath, sh in rows or []
        ]
    )
    if table_exists(sql, "imported_files"):
        # contents a file import already read, duplicates included: a re-import does not parse them again
        for sha, aid in sql.execute_sql(f"select sha256, activity_id from {t('imported_files')}") or []:
            if sha not in index.by_sha:
                index.by_sha[sha] = index.by_id.get(aid) or Known(int(aid), None, None, FILE_SOURCE, True)
    return index


@dataclass
class Superseded:
    file_id: int
    winner_id: int
    streams_moved: bool
    fetch_log: dict | None  # the row to load for the moved streams


def supersede_file_rows(sql, now_iso: str) -> list[Superseded]:
    """Remove file rows that an API or archive row now stands for; their streams go to the winner if it has none.

    Returns what was done, with the fetch_log rows the caller must load (in its first batch) for moved streams."""
    index = load_index(sql)
    others = RecordingIndex([k for k in index.by_id.values() if k.source != FILE_SOURCE])
    t = sql.make_qualified_table_name
    done: list[Superseded] = []
    for k in [k for k in index.by_id.values() if k.source == FILE_SOURCE]:
        # a group ride: another member's API activity at the same minute is not this athlete's recording
        winner = others.match(k.start, k.sport_type, athlete_id=k.athlete_id)
        if winner is None:
            continue
        moved = False
        if k.has_streams and not winner.has_streams and not winner.deleted:
            sql.execute_sql(
                f"update {t('activity_streams')} set activity_id = ?, athlete_id = coalesce(athlete_id, ?) "
                "where activity_id = ?",
                winner.id,
                winner.athlete_id,
                k.id,
            )
            winner.has_streams = moved = True
        elif table_exists(sql, "activity_streams"):
            sql.execute_sql(f"delete from {t('activity_streams')} where activity_id = ?", k.id)
        if table_exists(sql, "fetch_log"):
            sql.execute_sql(f"delete from {t('fetch_log')} where activity_id = ?", k.id)
        sql.execute_sql(f"delete from {t('activities')} where id = ?", k.id)
        log = (
            {
                "activity_id": winner.id,
                "kind": "streams",
                "status": FILE_FETCH_STATUS,
                "athlete_id": winner.athlete_id,
                "fetched_at": now_iso,
            }
            if moved
            else None
        )
        done.append(Superseded(k.id, winner.id, moved, log))
    return done
