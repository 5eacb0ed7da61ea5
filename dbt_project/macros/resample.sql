{#- The stream points of `points_relation` (stg_strava__activity_streams) resampled to one row per activity and
    elapsed second, optionally only for the activities that pass `activity_filter` (SQL on activity_id): the
    curves resample only the activities they need, int_activity_streams__1hz all of them.
    A sample at time t covers the seconds since the sample before it (t - gap + 1 .. t) with its own power and
    heart rate and an even share of the distance gained since the sample before. A gap longer than
    resample_max_gap_s (5 s: a pause, a lost signal) counts as zero: the seconds before the sample get no power, no
    heart rate and no distance (the distance gained across the gap is dropped, never credited to one second); the
    sample itself still covers its own second. Samples at a time already seen are dropped (the later point wins); a
    distance that goes backwards gains nothing.
    `measures`: the per-second values to compute, a subset of power_w, heartrate_bpm and distance_m (default all,
    with stream_second_id and is_gap: the columns of int_activity_streams__1hz). A curve asks for the one it needs:
    every column carried through the sorts and the expansion to seconds costs time (the pace curve took about 10 %
    less CPU with distance_m alone).
    The same SQL on DuckDB and PostgreSQL: the engine-specific parts are macros of macros/cross_db/. -#}
{% macro resample_1hz(points_relation, activity_filter=none, measures=none) %}
{%- set all_columns = measures is none -%}
{%- set measures = measures or ['power_w', 'heartrate_bpm', 'distance_m'] -%}
{%- set sampled = [] -%}
{%- for m in ['power_w', 'heartrate_bpm'] if m in measures %}{% do sampled.append(m) %}{% endfor -%}
{%- set with_distance = 'distance_m' in measures -%}
with

-- one sorted pass over the points gives every sample its gap and distance gained since the point before; that is
-- the sample before unless the activity has points at a time already seen (rare: a device writing a second twice)
ordered_points as (

    select
        activity_id,
        elapsed_s,
        {%- for m in sampled %}
        {{ m }},
        {%- endfor %}
        -- the first sample covers its own second only
        coalesce(elapsed_s - lag(elapsed_s) over by_point, 1) as gap_s,
        {%- if with_distance %}
        greatest(coalesce(distance_m - lag(distance_m) over by_point, 0), 0) as distance_gain_m,
        {%- endif %}
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

    select activity_id, elapsed_s{% for m in measures %}, {{ m }}{% endfor %}
    from (
        select
            activity_id,
            elapsed_s,
            {%- for m in measures %}
            {{ m }},
            {%- endfor %}
            row_number() over (partition by activity_id, elapsed_s order by point_index desc) as point_rank
        from {{ points_relation }}
        where elapsed_s is not null and activity_id in (select activity_id from repeating_activities)
    ) as ranked
    where point_rank = 1

),

resample_steps as (

    select activity_id, elapsed_s{% for m in sampled %}, {{ m }}{% endfor %}, gap_s
        {%- if with_distance %}, distance_gain_m{% endif %}
    from ordered_points
    where activity_id not in (select activity_id from repeating_activities)

    union all

    select
        activity_id,
        elapsed_s,
        {%- for m in sampled %}
        {{ m }},
        {%- endfor %}
        coalesce(elapsed_s - lag(elapsed_s) over by_time, 1)
        {%- if with_distance %},
        greatest(coalesce(distance_m - lag(distance_m) over by_time, 0), 0)
        {%- endif %}
    from deduplicated_points
    window by_time as (partition by activity_id order by elapsed_s)

),

resample_seconds as (

    -- most samples are a second apart and cover one second: only the others are expanded (a set-returning
    -- function over every row cost more than the rest of the resampling)
    {%- for expanded in [false, true] %}
    select
        activity_id,
        {% if expanded %}{{ integer_series('elapsed_s - gap_s + 1', 'elapsed_s') }}{% else %}elapsed_s{% endif %}
            as elapsed_s,
        elapsed_s as sample_s,
        gap_s
        {%- for m in sampled %},
        {{ m }}
        {%- endfor %}
        {%- if with_distance %},
        distance_gain_m
        {%- endif %}
    from resample_steps
    where gap_s {{ "<> 1" if expanded else "= 1" }}
    {{- "\n\n    union all\n" if not expanded }}
    {%- endfor %}

),

resampled as (

    select
        {%- if all_columns %}
        -- one number per activity and second (seconds up to 115 days): a key the primary-key test can check
        cast(activity_id as {{ strava_type('hugeint') }}) * 10000000 + elapsed_s as stream_second_id,
        {%- endif %}
        activity_id,
        cast(elapsed_s as integer) as elapsed_s
        {%- for m in sampled %},
        case when gap_s <= {{ var('resample_max_gap_s') }} or elapsed_s = sample_s then {{ m }} end as {{ m }}
        {%- endfor %}
        {%- if with_distance %},
        case when gap_s <= {{ var('resample_max_gap_s') }} then coalesce(distance_gain_m / gap_s, 0) else 0 end
            as distance_m
        {%- endif %}
        {%- if all_columns %},
        gap_s > {{ var('resample_max_gap_s') }} and elapsed_s < sample_s as is_gap
        {%- endif %}
    from resample_seconds

)

select * from resampled
{% endmacro %}
