{#- The stream points of `points_relation` (stg_strava__activity_streams) resampled to one row per activity and
    elapsed second, optionally only for the activities that pass `activity_filter` (SQL on activity_id): the
    curves resample only the activities they need, int_activity_streams__1hz all of them.
    A sample at time t covers the seconds since the sample before it (t - gap + 1 .. t) with its own power and
    heart rate and an even share of the distance gained since the sample before. A gap longer than
    resample_max_gap_s (5 s: a pause, a lost signal) counts as zero: the seconds before the sample get no power, no
    heart rate and no distance (the distance gained across the gap is dropped, never credited to one second); the
    sample itself still covers its own second. Samples at a time already seen are dropped (the later point wins).
    Distance is gained over the farthest distance of the samples before: a distance that steps back gains nothing
    and gains nothing again while it climbs back (a GPS glitch would otherwise become a sprint record), and a
    sample without a distance gains nothing while the next one gains from the farthest distance before it.
    `measures`: the per-second values to compute, a subset of power_w, heartrate_bpm and distance_m (default all,
    with stream_second_id and is_gap: the columns of int_activity_streams__1hz). A curve asks for the one it needs:
    every column carried through the sorts and the expansion to seconds costs time (the pace curve took about 10 %
    less CPU with distance_m alone).
    `running`: with one measure, power_w or distance_m, also running_<measure>: its sum over the activity's seconds
    up to and including this one (what the curves' window sums are differences of). It is summed per sample, before
    the expansion to seconds, and spread over a sample's seconds like the value: a running sum over every second
    cost a third of the pace curve.
    Most distance streams only grow, have a distance at every sample and gain nothing across a gap: for those
    (clean_distance) the gain is the difference to the sample before and the running distance is the distance since
    the first sample, without the running maximum and the running sum the others need (two more sorts of their
    points).
    The same SQL on DuckDB and PostgreSQL: the engine-specific parts are macros of macros/cross_db/. -#}
{% macro resample_1hz(points_relation, activity_filter=none, measures=none, running=false) %}
{%- set all_columns = measures is none -%}
{%- set measures = measures or ['power_w', 'heartrate_bpm', 'distance_m'] -%}
{%- set sampled = [] -%}
{%- for m in ['power_w', 'heartrate_bpm'] if m in measures %}{% do sampled.append(m) %}{% endfor -%}
{%- set with_distance = 'distance_m' in measures -%}
{%- set max_gap = var('resample_max_gap_s') -%}
{#- per measure with a running sum: what one sample adds to it (credited), and what the seconds after second s up
    to the sample add (the running sum at s is the sample's minus that) -#}
{%- set credited = {
    'power_w': 'case when gap_s <= ' ~ max_gap ~ ' then coalesce(power_w, 0) * gap_s else coalesce(power_w, 0) end',
    'distance_m': 'case when gap_s <= ' ~ max_gap ~ ' then distance_gain_m else 0 end',
} -%}
{%- set after_second = {
    'power_w': 'coalesce(power_w, 0) * case when gap_s <= ' ~ max_gap
        ~ ' then sample_s - elapsed_s when elapsed_s < sample_s then 1 else 0 end',
    'distance_m': 'case when gap_s <= ' ~ max_gap
        ~ ' then coalesce(distance_gain_m / gap_s, 0) * (sample_s - elapsed_s) else 0 end',
} -%}
{%- if running and (measures | length != 1 or measures[0] not in credited) -%}
    {{ exceptions.raise_compiler_error("resample_1hz: running takes one measure, power_w or distance_m") }}
{%- endif -%}
{%- set running_measure = measures[0] if running else none -%}
{%- set step_columns = sampled + (['distance_gain_m'] if with_distance else []) -%}
with

-- one sorted pass over the points gives every sample its gap and the change of distance since the point before;
-- that is the sample before unless the activity has points at a time already seen (rare: a device writing a
-- second twice)
ordered_points as (

    select
        activity_id,
        elapsed_s,
        {%- for m in measures %}
        {{ m }},
        {%- endfor %}
        -- the first sample covers its own second only
        coalesce(elapsed_s - lag(elapsed_s) over by_point, 1) as gap_s,
        {%- if with_distance %}
        distance_m - lag(distance_m) over by_point as distance_delta_m,
        {%- endif %}
        lead(elapsed_s) over by_point = elapsed_s as is_repeated
    from {{ points_relation }}
    where elapsed_s is not null{% if activity_filter %} and ({{ activity_filter }}){% endif %}
    window by_point as (partition by activity_id order by elapsed_s)

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

    select activity_id, elapsed_s{% for m in measures %}, {{ m }}{% endfor %}, gap_s
        {%- if with_distance %}, distance_delta_m{% endif %}
    from ordered_points
    where activity_id not in (select activity_id from repeating_activities)

    union all

    select
        activity_id,
        elapsed_s,
        {%- for m in measures %}
        {{ m }},
        {%- endfor %}
        coalesce(elapsed_s - lag(elapsed_s) over by_time, 1)
        {%- if with_distance %},
        distance_m - lag(distance_m) over by_time
        {%- endif %}
    from deduplicated_points
    window by_time as (partition by activity_id order by elapsed_s)

),
{%- if with_distance %}

-- the activities whose distance has a value at every sample, never goes back and gains nothing across a gap over
-- resample_max_gap_s (only the first sample has no delta)
clean_distance as (

    select activity_id, min(distance_m) as first_distance_m
    from resample_steps
    group by activity_id
    having bool_and(
        distance_m is not null
        and (distance_delta_m is null or (distance_delta_m >= 0 and (gap_s <= {{ max_gap }} or distance_delta_m = 0)))
    )

),

-- every sample's distance gained: over the sample before in a clean distance stream, over the farthest distance
-- of the samples before in the others
distance_steps as (

    select
        resample_steps.activity_id,
        elapsed_s{% for m in sampled %}, {{ m }}{% endfor %},
        gap_s,
        coalesce(distance_delta_m, 0) as distance_gain_m
        {%- if running %},
        distance_m - first_distance_m as running_distance_m
        {%- endif %}
    from resample_steps
    inner join clean_distance on clean_distance.activity_id = resample_steps.activity_id

    union all

    select
        activity_id,
        elapsed_s{% for m in sampled %}, {{ m }}{% endfor %},
        gap_s,
        greatest(coalesce(distance_m - max(distance_m) over (
            partition by activity_id order by elapsed_s rows between unbounded preceding and 1 preceding
        ), 0), 0) as distance_gain_m
        {%- if running %},
        cast(null as {{ strava_type('double') }}) as running_distance_m
        {%- endif %}
    from resample_steps
    where activity_id not in (select activity_id from clean_distance)

),
{%- endif %}
{%- if running %}

-- each sample with the running sum of what the samples up to it credit (a clean distance has it already)
running_steps as (

    select activity_id, elapsed_s, gap_s{% for c in step_columns %}, {{ c }}{% endfor %},
        sum({{ credited[running_measure] }}) over (
            partition by activity_id order by elapsed_s rows between unbounded preceding and current row
        ) as running_{{ running_measure }}
    {%- if with_distance %}
    from distance_steps
    where running_distance_m is null
    {%- else %}
    from resample_steps
    {%- endif %}
    {%- if with_distance %}

    union all

    select activity_id, elapsed_s, gap_s{% for c in step_columns %}, {{ c }}{% endfor %}, running_distance_m
    from distance_steps
    where running_distance_m is not null
    {%- endif %}

),
{%- endif %}

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
        {%- for c in step_columns %},
        {{ c }}
        {%- endfor %}
        {%- if running %},
        running_{{ running_measure }}
        {%- endif %}
    from {{ "running_steps" if running else ("distance_steps" if with_distance else "resample_steps") }}
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
        case when gap_s <= {{ max_gap }} or elapsed_s = sample_s then {{ m }} end as {{ m }}
        {%- endfor %}
        {%- if with_distance %},
        case when gap_s <= {{ max_gap }} then coalesce(distance_gain_m / gap_s, 0) else 0 end as distance_m
        {%- endif %}
        {%- if running %},
        running_{{ running_measure }} - {{ after_second[running_measure] }} as running_{{ running_measure }}
        {%- endif %}
        {%- if all_columns %},
        gap_s > {{ max_gap }} and elapsed_s < sample_s as is_gap
        {%- endif %}
    from resample_seconds

)

select * from resampled
{% endmacro %}
