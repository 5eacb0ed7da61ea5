-- eddington: one row per athlete x sport
select
    cast(athlete_id as varchar) as athlete_id,
    sport_type,
    eddington_number,
    next_eddington_number,
    days_at_next_km,
    days_needed_for_next,
    days_with_distance,
    longest_day_km
from eddington
