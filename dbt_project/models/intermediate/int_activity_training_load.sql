{#- The training load (TRIMP) of each activity, from the best source there is:
    1. hr_stream: Banister's TRIMP summed over the heart-rate stream (gaps over 30 s count as 30 s: a pause);
    2. avg_heartrate: the same formula at the activity's average heart rate over its moving time;
    3. suffer_score: Strava's Relative Effort, itself a heart-rate (or perceived-exertion) load on a similar scale;
    4. none: no load known, counted as 0. -#}
with

activities as (

    select activity_id, athlete_id, start_date_local, moving_time_s, avg_heartrate_bpm, suffer_score
    from {{ ref('stg_strava__activities') }}

),

heart_rate as (

    select * from {{ ref('int_athlete_heart_rate') }}

),

stream_points as (

    select
        activity_id,
        heartrate_bpm,
        least(30, greatest(0, elapsed_s - lag(elapsed_s) over (partition by activity_id order by point_index)))
            as step_s
    from {{ ref('stg_strava__activity_streams') }}
    where heartrate_bpm > 0 and elapsed_s is not null

),

stream_trimp as (

    select
        stream_points.activity_id,
        -- rounded to 0.001: a sum over thousands of points added in parallel differs in its last bits from one
        -- build to the next, and the same streams must give the same load every time
        round(sum(
            step_s / 60.0 * {{ trimp_per_minute(
                heart_rate_reserve('stream_points.heartrate_bpm', 'heart_rate.hr_rest_bpm', 'heart_rate.hr_max_bpm'),
                'heart_rate.trimp_a', 'heart_rate.trimp_b') }}
        ) * 1000) / 1000.0 as trimp,
        count(*) as heartrate_points
    from stream_points
    inner join activities on activities.activity_id = stream_points.activity_id
    inner join heart_rate on heart_rate.athlete_id = activities.athlete_id
    group by stream_points.activity_id
    -- a handful of samples is a sensor hiccup, not a recording
    having count(*) >= 10

),

candidates as (

    select
        activities.activity_id,
        activities.athlete_id,
        activities.start_date_local,
        stream_trimp.trimp as stream_trimp,
        case when activities.avg_heartrate_bpm > 0 and activities.moving_time_s > 0 then
            activities.moving_time_s / 60.0 * {{ trimp_per_minute(
                heart_rate_reserve('activities.avg_heartrate_bpm', 'heart_rate.hr_rest_bpm', 'heart_rate.hr_max_bpm'),
                'heart_rate.trimp_a', 'heart_rate.trimp_b') }}
        end as avg_heartrate_trimp,
        activities.suffer_score
    from activities
    inner join heart_rate on heart_rate.athlete_id = activities.athlete_id
    left join stream_trimp on stream_trimp.activity_id = activities.activity_id

),

final as (

    select
        activity_id,
        athlete_id,
        start_date_local,
        coalesce(stream_trimp, avg_heartrate_trimp, suffer_score, 0) as training_load,
        case
            when stream_trimp is not null then 'hr_stream'
            when avg_heartrate_trimp is not null then 'avg_heartrate'
            when suffer_score is not null then 'suffer_score'
            else 'none'
        end as training_load_source
    from candidates

)

select * from final
