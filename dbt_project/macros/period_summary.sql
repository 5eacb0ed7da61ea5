{#- Body of weekly_summary and monthly_summary: one row per athlete x sport x period (ISO week from Monday, or
    calendar month, of the local start date), from the athlete's first activity of that sport up to the period of
    as_of_date, with zero rows for periods without activity; the 4-period moving averages cover this and the three
    periods before, the changes compare with the period before. -#}
{% macro period_summary(period) %}
{%- set start = period ~ '_start' -%}
with

activities as (

    select
        athlete_id,
        sport_type,
        cast(date_trunc('{{ period }}', start_date_local) as date) as period_start,
        distance_km,
        moving_time_s,
        elevation_gain_m,
        avg_heartrate_bpm,
        avg_power_w,
        weighted_avg_power_w,
        kudos_count
    from {{ ref('fct_activities') }}

),

bounds as (

    select
        athlete_id,
        sport_type,
        min(period_start) as first_period,
        max(max(period_start)) over (partition by athlete_id) as athlete_last_period
    from activities
    group by athlete_id, sport_type

),

-- every period from the first activity of each athlete x sport to the period of as_of_date (or of the athlete's
-- last activity, if that is later)
spine as (

    select
        athlete_id,
        sport_type,
        {{ date_series('first_period',
                       "greatest(athlete_last_period, cast(date_trunc('" ~ period ~ "', " ~ as_of_date() ~ ") as date))",
                       period) }} as period_start
    from bounds

),

totals as (

    select
        athlete_id,
        sport_type,
        period_start,
        count(*) as activity_count,
        sum(distance_km) as distance_km,
        sum(moving_time_s) as moving_time_s,
        sum(elevation_gain_m) as elevation_gain_m,
        -- averages weighted by moving time, over the activities that recorded the value
        sum(avg_heartrate_bpm * moving_time_s) / nullif(sum(moving_time_s) filter (where avg_heartrate_bpm is not null), 0)
            as avg_heartrate_bpm,
        sum(avg_power_w * moving_time_s) / nullif(sum(moving_time_s) filter (where avg_power_w is not null), 0)
            as avg_power_w,
        sum(weighted_avg_power_w * moving_time_s)
            / nullif(sum(moving_time_s) filter (where weighted_avg_power_w is not null), 0) as weighted_avg_power_w,
        sum(kudos_count) as kudos_count
    from activities
    group by athlete_id, sport_type, period_start

),

filled as (

    select
        spine.athlete_id,
        spine.sport_type,
        spine.period_start,
        coalesce(totals.activity_count, 0) as activity_count,
        coalesce(totals.distance_km, 0) as distance_km,
        coalesce(totals.moving_time_s, 0) as moving_time_s,
        coalesce(totals.elevation_gain_m, 0) as elevation_gain_m,
        totals.avg_heartrate_bpm,
        totals.avg_power_w,
        totals.weighted_avg_power_w,
        coalesce(totals.kudos_count, 0) as kudos_count,
        {{ is_run('spine.sport_type') }} as is_run
    from spine
    left join totals
        on totals.athlete_id = spine.athlete_id
        and totals.sport_type = spine.sport_type
        and totals.period_start = spine.period_start

),

final as (

    select
        {{ surrogate_key(['athlete_id', 'sport_type', 'period_start']) }} as {{ period }}_summary_id,
        athlete_id,
        sport_type,
        period_start as {{ start }},
        cast(period_start + interval '1 {{ period }}' - interval '1 day' as date) as {{ period }}_end,
        activity_count,
        distance_km,
        moving_time_s,
        moving_time_s / 3600.0 as moving_time_h,
        elevation_gain_m,
        case when moving_time_s > 0 then distance_km / (moving_time_s / 3600.0) end as avg_speed_kmh,
        case when is_run and distance_km > 0 then (moving_time_s / 60.0) / distance_km end as avg_pace_min_per_km,
        avg_heartrate_bpm,
        avg_power_w,
        weighted_avg_power_w,
        kudos_count,

        avg(activity_count) over last_4 as activity_count_moving_avg_4,
        avg(distance_km) over last_4 as distance_km_moving_avg_4,
        avg(moving_time_s / 3600.0) over last_4 as moving_time_h_moving_avg_4,
        avg(elevation_gain_m) over last_4 as elevation_gain_m_moving_avg_4,

        activity_count - lag(activity_count) over by_period as activity_count_change,
        distance_km - lag(distance_km) over by_period as distance_km_change,
        100.0 * (distance_km - lag(distance_km) over by_period) / nullif(lag(distance_km) over by_period, 0)
            as distance_km_change_pct,
        (moving_time_s - lag(moving_time_s) over by_period) / 3600.0 as moving_time_h_change,
        elevation_gain_m - lag(elevation_gain_m) over by_period as elevation_gain_m_change

    from filled
    window
        by_period as (partition by athlete_id, sport_type order by period_start),
        last_4 as (partition by athlete_id, sport_type order by period_start rows between 3 preceding and current row)

)

select * from final
{% endmacro %}
