{#- The stream points of `points_relation` (stg_strava__activity_streams) resampled to one row per activity and
    elapsed second, optionally only for the activities that pass `activity_filter` (SQL on activity_id): the
    curves resample only the activities they need, int_activity_streams__1hz all of them.
    A sample at time t covers the seconds since the sample before it (t - gap + 1 .. t) with its own power and
    heart rate and an even share of the distance gained since the sample before. A gap longer than
    resample_max_gap_s (5 s: a pause, a lost signal) counts as zero: the seconds before the sample get no power, no
    heart rate and no distance (the distance gained across the gap is dropped, never credited to one second); the
    sample itself still covers its own second. Samples at a time already seen are dropped (the later point wins); a
    distance that goes backwards gains nothing.
    The same SQL on DuckDB and PostgreSQL: the engine-specific parts are macros of macros/cross_db/. -#}
{% macro resample_1hz(points_relation, activity_filter=none) %}
with

-- one sorted pass over the points gives every sample its gap and distance gained since the point before; that is
-- the sample before unless the activity has points at a time already seen (rare: a device writing a second twice)
ordered_points as (

    select
        activity_id,
        elapsed_s,
        power_w,
        heartrate_bpm,
        -- the first sample covers its own second only
        coalesce(elapsed_s - lag(elapsed_s) over by_point, 1) as gap_s,
        greatest(coalesce(distance_m - lag(distance_m) over by_point, 0), 0) as distance_gain_m,
        lead(elapsed_s) over by_point = elapsed_s as is_repeated
    from {{ points_relation }}
    where elapsed_s is not null{% if activity_filter %} and ({{ activity_filter }}){% endif %}
    window by_point as (partition by activity_id order by elapsed_s, point_index)

),

repeating_activities as (

    select distinct activity_id from ordered_points where is_repeated

),

-- the activities with repeated times again, their repeats dropped first (the later point wins)
deduplicated_points as (

    select activity_id, elapsed_s, distance_m, heartrate_bpm, power_w
    from (
        select
            activity_id,
            elapsed_s,
            distance_m,
            heartrate_bpm,
            power_w,
            row_number() over (partition by activity_id, elapsed_s order by point_index desc) as point_rank
        from {{ points_relation }}
        where elapsed_s is not null and activity_id in (select activity_id from repeating_activities)
    ) as ranked
    where point_rank = 1

),

resample_steps as (

    select activity_id, elapsed_s, power_w, heartrate_bpm, gap_s, distance_gain_m
    from ordered_points
    where activity_id not in (select activity_id from repeating_activities)

    union all

    select
        activity_id,
        elapsed_s,
        power_w,
        heartrate_bpm,
        coalesce(elapsed_s - lag(elapsed_s) over by_time, 1),
        greatest(coalesce(distance_m - lag(distance_m) over by_time, 0), 0)
    from deduplicated_points
    window by_time as (partition by activity_id order by elapsed_s)

),

resample_seconds as (

    select
        activity_id,
        {{ integer_series('elapsed_s - gap_s + 1', 'elapsed_s') }} as elapsed_s,
        elapsed_s as sample_s,
        gap_s,
        power_w,
        heartrate_bpm,
        distance_gain_m
    from resample_steps

),

resampled as (

    select
        -- one number per activity and second (seconds up to 115 days): a key the primary-key test can check
        cast(activity_id as {{ strava_type('hugeint') }}) * 10000000 + elapsed_s as stream_second_id,
        activity_id,
        cast(elapsed_s as integer) as elapsed_s,
        case when gap_s <= {{ var('resample_max_gap_s') }} or elapsed_s = sample_s then power_w end as power_w,
        case when gap_s <= {{ var('resample_max_gap_s') }} or elapsed_s = sample_s then heartrate_bpm end
            as heartrate_bpm,
        case when gap_s <= {{ var('resample_max_gap_s') }} then coalesce(distance_gain_m / gap_s, 0) else 0 end
            as distance_m,
        gap_s > {{ var('resample_max_gap_s') }} and elapsed_s < sample_s as is_gap
    from resample_seconds

)

select * from resampled
{% endmacro %}
