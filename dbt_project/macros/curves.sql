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
    block level finds the first block q whose last running distance exceeds covered(k1) - d; the block p before it
    ends below. So k1's start lies between the end of p and the end of q, where the distance grows by at most g,
    the largest gain of a second in q: at least (covered(k1) - d - covered(p)) / g after the end of p and at least
    (covered(q) - (covered(k1) - d)) / g before the end of q. k1's time from the earliest such start bounds the
    activity's best from above (upper_s). No end k of the block does better than lower_s: its start is at or before
    k1's; and when the first gaining second k0's start lies in q too, every k's start lies in q, at least
    (covered(q) - covered(k) + d) / g before its end, where covered(k) <= covered(k0) + (k - k0) * b (b: the
    block's own largest gain), so time(k) >= k0 - e(q) + (covered(q) - covered(k0) + d) / g
    + (k - k0) * (1 - b / g). Only the blocks whose lower bound is not above the best upper bound go on to the
    exact ASOF: for a steady effort the bounds are within a second or two of the block's true times. -#}
{% macro duckdb__best_distance_times(gains, targets) %}
{%- set block_s = 8 -%}
    with

    distance_blocks as (

        select
            activity_id,
            elapsed_s // {{ block_s }} as block,
            min(elapsed_s) as first_elapsed_s,
            max(elapsed_s) as elapsed_s,
            min(covered_m) as first_covered_m,
            max(covered_m) as covered_m,
            max(gain_m) as max_gain_m
        from {{ gains }}
        group by activity_id, elapsed_s // {{ block_s }}

    ),

    block_starts as (

        select
            *,
            lag(elapsed_s) over by_block as before_elapsed_s,
            lag(covered_m) over by_block as before_covered_m
        from distance_blocks
        window by_block as (partition by activity_id order by elapsed_s)

    ),

    block_bounds as (

        select
            ends.activity_id,
            ends.distance_no,
            ends.block,
            ends.elapsed_s - (
                starts.before_elapsed_s + (ends.start_covered_m - starts.before_covered_m) / starts.max_gain_m
            ) as upper_s,
            case
                when ends.first_start_covered_m >= starts.before_covered_m then
                    ends.first_elapsed_s - starts.elapsed_s
                    + (starts.covered_m - ends.first_start_covered_m) / starts.max_gain_m
                    + least(0, (ends.elapsed_s - ends.first_elapsed_s) * (1 - ends.max_gain_m / starts.max_gain_m))
                else ends.first_elapsed_s - (
                    starts.elapsed_s - (starts.covered_m - ends.start_covered_m) / starts.max_gain_m
                )
            end as lower_s
        from (
            select
                blocks.activity_id,
                blocks.block,
                blocks.first_elapsed_s,
                blocks.elapsed_s,
                blocks.max_gain_m,
                blocks.first_covered_m - targets.distance_m as first_start_covered_m,
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

    best_upper_bounds as (

        select activity_id, distance_no, min(upper_s) as best_upper_s
        from block_bounds
        group by activity_id, distance_no

    ),

    open_blocks as (

        select block_bounds.activity_id, block_bounds.distance_no, block_bounds.block
        from block_bounds
        inner join best_upper_bounds
            on best_upper_bounds.activity_id = block_bounds.activity_id
            and best_upper_bounds.distance_no = block_bounds.distance_no
        -- no upper bound: the effort starts in the activity's first block, keep every block (the bounds are
        -- floating point: a micrometre's doubt keeps a block)
        where best_upper_bounds.best_upper_s is null or block_bounds.lower_s <= best_upper_bounds.best_upper_s + 1e-6

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
