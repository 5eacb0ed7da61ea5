-- training_load: one row per athlete x day, CTL (42-day), ATL (7-day) and TSB (form)
select
    cast(athlete_id as varchar) as athlete_id,
    load_date,
    activity_count,
    training_load,
    training_load_source,
    ctl,
    atl,
    tsb
from training_load
