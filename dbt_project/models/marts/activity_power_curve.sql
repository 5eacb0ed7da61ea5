{#- Mean-maximal power of each activity with a power stream: the best average power over each duration of the
    ladder (var curve_durations_s, 1 s .. 5 h) that fits in the activity, from the 1 Hz resampled watts
    (macro resample_1hz, as in int_activity_streams__1hz: pauses over 5 s count as zero watts, seconds without
    a watts value too). -#}
with

activities as (

    select activity_id, athlete_id, sport_type, start_date_local
    from {{ ref('fct_activities') }}

),

seconds as (

    select activity_id, elapsed_s, coalesce(power_w, 0) as power_w, running_power_w as running_w
    from (
        {{ resample_1hz(
            ref('stg_strava__activity_streams'),
            "activity_id in (select activity_id from " ~ ref('stg_strava__activity_streams')
                ~ " where power_w is not null)",
            measures=['power_w'],
            running=true
        ) }}
    ) as resampled

),

curve as (

    {{ best_window_sums('seconds', 'power_w', 'running_w') }}

),

final as (

    select
        {{ surrogate_key(['curve.activity_id', 'duration_s']) }} as activity_power_curve_id,
        curve.activity_id,
        activities.athlete_id,
        activities.sport_type,
        activities.start_date_local,
        curve.duration_s,
        {{ duration_label('curve.duration_s') }} as duration_label,
        curve.best_sum / curve.duration_s as power_w,
        -- the best window: its first and last second of the activity's elapsed time
        curve.window_end_s - curve.duration_s + 1 as window_start_s,
        curve.window_end_s
    from curve
    inner join activities on activities.activity_id = curve.activity_id

)

select * from final
