-- values no recording can produce (the dbt test assert_no_impossible_activity_values, as rows to look at)
select cast(athlete_id as varchar) as athlete_id, cast(activity_id as varchar) as activity_id, activity_name, start_date_local, problem, value,
       '/activity/?id=' || cast(activity_id as varchar) as link
from (
    select *, 'negative distance' as problem, distance_km as value from activities where distance_km < 0
    union all
    select *, 'negative moving time', moving_time_s from activities where moving_time_s < 0
    union all
    select *, 'negative elevation gain', elevation_gain_m from activities where elevation_gain_m < 0
    union all
    select *, 'moving time > elapsed time + 60 s', moving_time_s - elapsed_time_s
    from activities where moving_time_s > elapsed_time_s + 60
    union all
    select *, 'average heart rate outside 0..250 bpm', avg_heartrate_bpm
    from activities where avg_heartrate_bpm not between 0 and 250
)
