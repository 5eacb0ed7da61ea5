{#- Values no recording can produce: an error, the data (or a conversion) is broken. Negative distance, time or
    climbing; moving time above the elapsed time (beyond moving_time_slack_s: Strava itself reports up to a
    second more); negative heart rates or above 250 bpm. One row per activity and problem. -#}
with

activities as (

    select * from {{ ref('fct_activities') }}

),

problems as (

    select activity_id, 'negative distance' as problem, distance_km as value
    from activities where distance_km < 0
    union all
    select activity_id, 'negative moving time', moving_time_s
    from activities where moving_time_s < 0
    union all
    select activity_id, 'negative elapsed time', elapsed_time_s
    from activities where elapsed_time_s < 0
    union all
    select activity_id, 'negative elevation gain', elevation_gain_m
    from activities where elevation_gain_m < 0
    union all
    select activity_id, 'moving time > elapsed time', moving_time_s - elapsed_time_s
    from activities where moving_time_s > elapsed_time_s + {{ var('moving_time_slack_s') }}
    union all
    select activity_id, 'average heart rate outside 0..250 bpm', avg_heartrate_bpm
    from activities where avg_heartrate_bpm not between 0 and 250
    union all
    select activity_id, 'max heart rate outside 0..250 bpm', max_heartrate_bpm
    from activities where max_heartrate_bpm not between 0 and 250

)

select * from problems
