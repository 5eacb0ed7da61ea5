{#- Helpers of the power and pace curves (int_activity_streams__1hz -> activity_power_curve, activity_pace_curve).
    The window sums and the distance search differ by engine (adapter.dispatch: duckdb__ and postgres__, as in
    macros/cross_db/); the rest is SQL both speak. -#}

{#- From `source` (a relation or CTE of dense 1 Hz rows: activity_id, elapsed_s, a per-second `value` and its
    `running` sum over the activity's seconds up to and including this one), one row per activity and ladder
    duration (var curve_durations_s) that fits in the activity: activity_id, duration_s, the best sum of `value`
    over duration_s consecutive seconds (best_sum) and the second that window ends at (window_end_s).
    The sum over the d seconds ending at t is running[t] - running[t - d], and running[t - d] is the running sum
    before second t - d + 1: one lag per duration over one sorted pass, no self-join. Before the activity's first
    second the lag is NULL: that duration does not fit there. -#}
{% macro best_window_sums(source, value, running) %}
    {{- return(adapter.dispatch('best_window_sums', 'strava')(source, value, running)) -}}
{% endmacro %}

{#- One row per second of `source`: activity_id, elapsed_s and sum_<d> for every ladder duration d. -#}
{% macro window_sums(source, value, running) -%}
    select
        activity_id,
        elapsed_s,
        {%- for d in var('curve_durations_s') %}
        {% if d == 1 %}{{ value }}{% else %}{{ running }} - lag({{ running }} - {{ value }}, {{ d - 1 }}) over by_second{% endif %}
            as sum_{{ d }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ source }}
    window by_second as (partition by activity_id order by elapsed_s)
{%- endmacro %}

{% macro duckdb__best_window_sums(source, value, running) %}
{%- set durations = var('curve_durations_s') -%}
    select
        activity_id,
        cast(replace(duration_name, 'd_', '') as integer) as duration_s,
        best.best_sum as best_sum,
        best.window_end_s as window_end_s
    from (
        unpivot (
            select
                activity_id,
                {%- for d in durations %}
                max_by(struct_pack(best_sum := sum_{{ d }}, window_end_s := elapsed_s), sum_{{ d }})
                    as d_{{ d }}{{ "," if not loop.last }}
                {%- endfor %}
            from ({{ window_sums(source, value, running) }})
            group by activity_id
        )
        on {% for d in durations %}d_{{ d }}{{ ", " if not loop.last }}{% endfor %}
        into name duration_name value best
    )
    where best.best_sum is not null
{% endmacro %}

{% macro postgres__best_window_sums(source, value, running) %}
{%- set durations = var('curve_durations_s') -%}
    select activity_id, duration_s, best_sum, window_end_s
    from (
        select
            sums.activity_id,
            durations.duration_s,
            durations.window_sum as best_sum,
            sums.elapsed_s as window_end_s,
            -- the earliest of equal windows, like the first one DuckDB's max_by meets
            row_number() over (
                partition by sums.activity_id, durations.duration_s order by durations.window_sum desc, sums.elapsed_s
            ) as window_rank
        from ({{ window_sums(source, value, running) }}) as sums
        cross join lateral (
            values
            {%- for d in durations %}
                ({{ d }}, sums.sum_{{ d }}){{ "," if not loop.last }}
            {%- endfor %}
        ) as durations(duration_s, window_sum)
        where durations.window_sum is not null
    ) as ranked
    where window_rank = 1
{% endmacro %}

{#- The shortest time over standard distances. `gains`: the seconds that gained distance (activity_id, elapsed_s,
    gain_m > 0, covered_m: the running distance at the second's end, strictly increasing per activity); `targets`:
    one row per activity and distance to search (activity_id, distance_no, distance_m).
    Every gaining second k with covered(k) >= d ends an effort over d: its start lies in the first gaining second j
    whose running distance exceeds covered(k) - d, at j - (covered(j) - (covered(k) - d)) / gain(j) (linear inside
    the second). One row per activity and distance it covers: activity_id, distance_no, duration_s (the best, to a
    fraction of a second) and window_start_s (where that effort starts in the elapsed time). -#}
{% macro best_distance_times(gains, targets) %}
    {{- return(adapter.dispatch('best_distance_times', 'strava')(gains, targets)) -}}
{% endmacro %}

{% macro distance_ends(gains, targets) %}
        select
            gains.activity_id,
            gains.elapsed_s,
            targets.distance_no,
            gains.covered_m - targets.distance_m as start_covered_m
        from {{ gains }} as gains
        inner join {{ targets }} as targets
            on targets.activity_id = gains.activity_id
            and gains.covered_m >= targets.distance_m
{% endmacro %}

{#- DuckDB: the first j is an ASOF match (a sort-merge of the ends against the gains, like numpy's searchsorted).
    Its cost is the number of ends (every gaining second x every distance it covers), so first a coarse pass prunes
    them, exactly: the gains in blocks of 8 s, each block represented by its last gaining second k1. An ASOF at
    block level finds the first block end q whose running distance exceeds covered(k1) - d, and the block end p
    before it. From the end of p to k1 the distance covers d: upper_s = e(k1) - e(p) bounds the activity's best
    from above. No end k of the block does better than e(first second of the block) - e(q): its start is at or
    before q (j(k) <= j(k1) <= q). Only the blocks whose lower bound is below the best upper bound go on to the
    exact ASOF. -#}
{% macro duckdb__best_distance_times(gains, targets) %}
{%- set block_s = 8 -%}
    with

    distance_blocks as (

        select
            activity_id,
            elapsed_s // {{ block_s }} as block,
            max(elapsed_s) as elapsed_s,
            max(covered_m) as covered_m
        from {{ gains }}
        group by activity_id, elapsed_s // {{ block_s }}

    ),

    block_starts as (

        select *, lag(elapsed_s) over (partition by activity_id order by elapsed_s) as before_elapsed_s
        from distance_blocks

    ),

    block_bounds as (

        select
            ends.activity_id,
            ends.distance_no,
            ends.block,
            ends.elapsed_s - starts.before_elapsed_s as upper_s,
            ends.block * {{ block_s }} - starts.elapsed_s as lower_s
        from (
            select
                blocks.activity_id,
                blocks.block,
                blocks.elapsed_s,
                targets.distance_no,
                blocks.covered_m - targets.distance_m as start_covered_m
            from distance_blocks as blocks
            inner join {{ targets }} as targets
                on targets.activity_id = blocks.activity_id
                and blocks.covered_m >= targets.distance_m
        ) as ends
        asof inner join block_starts as starts
            on starts.activity_id = ends.activity_id
            and starts.covered_m > ends.start_covered_m

    ),

    open_blocks as (

        select activity_id, distance_no, block
        from (
            select *, min(upper_s) over (partition by activity_id, distance_no) as best_upper_s from block_bounds
        ) as bounded
        -- no upper bound: the effort starts in the activity's first block, keep every block
        where best_upper_s is null or lower_s < best_upper_s

    ),

    open_ends as (

        select
            gains.activity_id,
            gains.elapsed_s,
            targets.distance_no,
            gains.covered_m - targets.distance_m as start_covered_m
        from {{ gains }} as gains
        inner join open_blocks
            on open_blocks.activity_id = gains.activity_id
            and open_blocks.block = gains.elapsed_s // {{ block_s }}
        inner join {{ targets }} as targets
            on targets.activity_id = gains.activity_id
            and targets.distance_no = open_blocks.distance_no
            and gains.covered_m >= targets.distance_m

    )

    select
        ends.activity_id,
        ends.distance_no,
        min(ends.elapsed_s - starts.elapsed_s + (starts.covered_m - ends.start_covered_m) / starts.gain_m)
            as duration_s,
        arg_min(
            starts.elapsed_s - (starts.covered_m - ends.start_covered_m) / starts.gain_m,
            ends.elapsed_s - starts.elapsed_s + (starts.covered_m - ends.start_covered_m) / starts.gain_m
        ) as window_start_s
    from open_ends as ends
    asof inner join {{ gains }} as starts
        on starts.activity_id = ends.activity_id
        and starts.covered_m > ends.start_covered_m
    group by ends.activity_id, ends.distance_no
{% endmacro %}

{#- PostgreSQL has no ASOF join: every gaining second j is listed under the 5 m buckets its span
    (covered(j) - gain(j), covered(j)] touches, and an end finds its j by an equality join on the bucket of its
    start distance (a hash join), then the span test. -#}
{% macro postgres__best_distance_times(gains, targets) %}
    select
        activity_id,
        distance_no,
        min(duration_s) as duration_s,
        {{ value_at_min('window_start_s', 'duration_s') }} as window_start_s
    from (
        select
            ends.activity_id,
            ends.distance_no,
            ends.elapsed_s - starts.elapsed_s + (starts.covered_m - ends.start_covered_m) / starts.gain_m
                as duration_s,
            starts.elapsed_s - (starts.covered_m - ends.start_covered_m) / starts.gain_m as window_start_s
        from ({{ distance_ends(gains, targets) }}) as ends
        inner join (
            select
                activity_id,
                elapsed_s,
                gain_m,
                covered_m,
                generate_series(
                    cast(floor((covered_m - gain_m) / 5) as bigint), cast(floor(covered_m / 5) as bigint)
                ) as bucket
            from {{ gains }}
        ) as starts
            on starts.activity_id = ends.activity_id
            and starts.bucket = cast(floor(ends.start_covered_m / 5) as bigint)
            and starts.covered_m - starts.gain_m <= ends.start_covered_m
            and starts.covered_m > ends.start_covered_m
    ) as efforts
    group by activity_id, distance_no
{% endmacro %}

{#- A duration in seconds as text: 1 s, 30 s, 1 min, 45 min, 1 h, 1.5 h. -#}
{% macro duration_label(seconds) -%}
    (case
        when ({{ seconds }}) < 60 then cast({{ seconds }} as varchar) || ' s'
        when ({{ seconds }}) < 3600 then regexp_replace(
            cast(cast(({{ seconds }}) / 60.0 as decimal(5, 1)) as varchar), '\.0$', '') || ' min'
        else regexp_replace(cast(cast(({{ seconds }}) / 3600.0 as decimal(5, 1)) as varchar), '\.0$', '') || ' h'
    end)
{%- endmacro %}

{#- The periods a curve's bests are kept for, as rows (period_kind, period, season_year, from_date, to_date)
    of activities' start_date_local: all time, every calendar year (season) of the data, and the last 42 and 90
    days up to as_of_date. `activities` must have start_date_local. -#}
{% macro curve_periods(activities) %}
    select 'all_time' as period_kind, 'all time' as period, cast(null as integer) as season_year,
           date '1900-01-01' as from_date, date '2999-12-31' as to_date
    union all
    select distinct 'season', cast({{ year_of('start_date_local') }} as varchar), {{ year_of('start_date_local') }},
           make_date({{ year_of('start_date_local') }}, 1, 1), make_date({{ year_of('start_date_local') }}, 12, 31)
    from {{ activities }}
    union all
    select 'last_42_days', 'last 42 days', null, {{ as_of_date() }} - 41, {{ as_of_date() }}
    union all
    select 'last_90_days', 'last 90 days', null, {{ as_of_date() }} - 89, {{ as_of_date() }}
{% endmacro %}
