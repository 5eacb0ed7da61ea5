{#- Helpers of the power and pace curves (int_activity_streams__1hz -> activity_power_curve, activity_pace_curve). -#}

{#- From `source` (a relation or CTE of dense 1 Hz rows: activity_id, elapsed_s and a per-second `value`), one row
    per activity and ladder duration (var curve_durations_s) that fits in the activity: the best sum of `value`
    over `duration_s` consecutive seconds (best_sum) and the second that window ends at (window_end_s). The sum
    over the d seconds ending at t is cum[t] - cum[t - d] of the running sum, so every duration costs one lag over
    one sorted pass, no self-join. -#}
{% macro best_window_sums(source, value) %}
{%- set durations = var('curve_durations_s') -%}
    select * from (
        unpivot (
            select
                activity_id,
                {%- for d in durations %}
                max_by(struct_pack(best_sum := sum_{{ d }}, window_end_s := elapsed_s), sum_{{ d }}) as d_{{ d }}{{ "," if not loop.last }}
                {%- endfor %}
            from (
                select
                    activity_id,
                    elapsed_s,
                    {%- for d in durations %}
                    case when second_no >= {{ d }} then running - coalesce(lag(running, {{ d }}) over by_second, 0) end
                        as sum_{{ d }}{{ "," if not loop.last }}
                    {%- endfor %}
                from (
                    select
                        activity_id,
                        elapsed_s,
                        sum({{ value }}) over by_second as running,
                        row_number() over by_second as second_no
                    from {{ source }}
                    window by_second as (partition by activity_id order by elapsed_s rows unbounded preceding)
                )
                window by_second as (partition by activity_id order by elapsed_s)
            )
            group by activity_id
        )
        on {% for d in durations %}d_{{ d }}{{ ", " if not loop.last }}{% endfor %}
        into name duration_name value best
    )
    where best.best_sum is not null
{% endmacro %}

{#- A duration in seconds as text: 1 s, 30 s, 1 min, 45 min, 1 h, 1.5 h. -#}
{% macro duration_label(seconds) -%}
    (case
        when ({{ seconds }}) < 60 then cast({{ seconds }} as varchar) || ' s'
        when ({{ seconds }}) < 3600 then cast(cast(({{ seconds }}) / 60 as decimal(5, 1)) as varchar)
            .regexp_replace('\.0$', '') || ' min'
        else cast(cast(({{ seconds }}) / 3600 as decimal(5, 1)) as varchar).regexp_replace('\.0$', '') || ' h'
    end)
{%- endmacro %}

{#- The periods a curve's bests are kept for, as rows (period_kind, period, season_year, from_date, to_date)
    of activities' start_date_local: all time, every calendar year (season) of the data, and the last 42 and 90
    days up to as_of_date. `activities` must have start_date_local. -#}
{% macro curve_periods(activities) %}
    select 'all_time' as period_kind, 'all time' as period, null::integer as season_year,
           date '1900-01-01' as from_date, date '2999-12-31' as to_date
    union all
    select distinct 'season', cast(year(start_date_local) as varchar), year(start_date_local),
           make_date(year(start_date_local), 1, 1), make_date(year(start_date_local), 12, 31)
    from {{ activities }}
    union all
    select 'last_42_days', 'last 42 days', null, {{ as_of_date() }} - 41, {{ as_of_date() }}
    union all
    select 'last_90_days', 'last 90 days', null, {{ as_of_date() }} - 89, {{ as_of_date() }}
{% endmacro %}
