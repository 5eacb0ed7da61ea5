-- personal_bests: one row per athlete x sport x record (best efforts by time, activity records by value)
select
    cast(athlete_id as varchar) as athlete_id,
    sport_type,
    record_kind,
    record_name,
    record_value,
    record_unit,
    cast(activity_id as varchar) as activity_id,
    achieved_on,
    elapsed_time_s,
    distance_km,
    pace_min_per_km,
    '/activity/?id=' || cast(activity_id as varchar) as link
from personal_bests
