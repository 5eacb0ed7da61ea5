{#- Best pace of each run and swim with a distance stream, two ways, one row per activity x effort:
    curve_kind 'duration': the longest distance covered in each ladder duration (var curve_durations_s) that fits
                           in the activity, as a pace;
    curve_kind 'distance': the shortest time over each standard distance (var run_distances_m for runs,
                           swim_distances_m for swims) the activity covers, to a fraction of a second: the start
                           is placed inside its second by linear interpolation of the distance.
    From the 1 Hz resampled distance (macro resample_1hz, as in int_activity_streams__1hz: a pause over 5 s gains
    nothing), so archive and file activities get their bests too. Paces in s/km, and s/100 m for swims. -#}
{#- DuckDB: the row estimates of the resampled seconds are tiny, and below 64 rows DuckDB plans an ASOF join as a
    nested loop: quadratic in the seconds of a run. The sort-merge ASOF is what this model needs. -#}
{%- if target.type == 'duckdb' %}
{{ config(
    pre_hook="set asof_loop_join_threshold = 0",
    post_hook="reset asof_loop_join_threshold",
) }}
{%- endif %}
{%- set run_distances = var('run_distances_m') -%}
{%- set swim_distances = var('swim_distances_m') -%}
with

activities as (

    select
        activity_id,
        athlete_id,
        sport_type,
        start_date_local,
        case when sport_type = 'Swim' then 'swim' else 'run' end as distance_set
    from {{ ref('fct_activities') }}
    where {{ is_run('sport_type') }} or sport_type = 'Swim'

),

-- the running distance once: the duration curve's window sums and the distance search both start from it
seconds as (

    select activity_id, elapsed_s, distance_m, running_distance_m as covered_m
    from (
        {{ resample_1hz(
            ref('stg_strava__activity_streams'),
            "activity_id in (select activity_id from activities)",
            measures=['distance_m'],
            running=true
        ) }}
    ) as resampled

),

standard_distances as (

    {%- for name, metres in run_distances.items() %}
    select 'run' as distance_set, {{ loop.index }} as distance_no, '{{ name }}' as effort,
           cast({{ metres }} as {{ strava_type('double') }}) as distance_m
    union all
    {%- endfor %}
    {%- for name, metres in swim_distances.items() %}
    select 'swim', {{ 100 + loop.index }}, '{{ name }}', cast({{ metres }} as {{ strava_type('double') }})
        {{- " union all" if not loop.last }}
    {%- endfor %}

),

duration_curve as (

    {{ best_window_sums('seconds', 'distance_m', 'covered_m') }}

),

-- the seconds that gained distance, with the running distance at their end: strictly increasing per activity
gains as (

    select activity_id, elapsed_s, distance_m as gain_m, covered_m
    from seconds
    where distance_m > 0

),

targets as (

    select activities.activity_id, standard_distances.distance_no, standard_distances.distance_m
    from activities
    inner join standard_distances on standard_distances.distance_set = activities.distance_set

),

distance_curve as (

    {{ best_distance_times('gains', 'targets') }}

),

efforts as (

    select
        activity_id,
        'duration' as curve_kind,
        {{ duration_label('duration_s') }} as effort,
        cast(duration_s as {{ strava_type('double') }}) as duration_s,
        best_sum as distance_m,
        cast(window_end_s - duration_s as {{ strava_type('double') }}) as window_start_s
    from duration_curve
    where best_sum > 0

    union all

    select
        distance_curve.activity_id,
        'distance',
        standard_distances.effort,
        distance_curve.duration_s,
        standard_distances.distance_m,
        distance_curve.window_start_s
    from distance_curve
    inner join standard_distances on standard_distances.distance_no = distance_curve.distance_no

),

final as (

    select
        {{ surrogate_key(['efforts.activity_id', 'curve_kind', 'effort']) }} as activity_pace_curve_id,
        efforts.activity_id,
        activities.athlete_id,
        activities.sport_type,
        activities.start_date_local,
        efforts.curve_kind,
        efforts.effort,
        efforts.duration_s,
        efforts.distance_m,
        efforts.duration_s / (efforts.distance_m / 1000.0) as pace_s_per_km,
        efforts.duration_s / (efforts.distance_m / 100.0) as pace_s_per_100m,
        -- where the effort starts in the activity's elapsed time (the first second of the window is the one after)
        efforts.window_start_s
    from efforts
    inner join activities on activities.activity_id = efforts.activity_id

)

select * from final
