-- import_progress: one row per athlete x kind of item the import fetches (detail, streams, zones)
select
    cast(athlete_id as varchar) as athlete_id,
    fetch_kind,
    activity_count,
    fetched_count,
    unavailable_count,
    pending_count,
    pending_requests,
    pct_done,
    last_fetched_at_utc
from import_progress
