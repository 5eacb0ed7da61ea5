{#- Time in each heart-rate, power and pace zone per athlete x sport x week (ISO, from Monday) and month, the sum
    of time_in_zones over the activities that started in the period (local time). Periods and zones without time
    have no row. -#}
with

activity_zones as (

    select * from {{ ref('time_in_zones') }}

),

periods as (

    select 'week' as period_kind, cast(date_trunc('week', start_date_local) as date) as period_start, *
    from activity_zones
    union all
    select 'month', cast(date_trunc('month', start_date_local) as date), *
    from activity_zones

),

totals as (

    select
        athlete_id,
        sport_type,
        period_kind,
        period_start,
        zone_type,
        zone,
        {{ any_value_of('zone_name') }} as zone_name,
        cast(sum(time_s) as bigint) as time_s,
        count(distinct activity_id) as activity_count
    from periods
    group by athlete_id, sport_type, period_kind, period_start, zone_type, zone

),

final as (

    select
        {{ surrogate_key(['athlete_id', 'sport_type', 'period_kind', 'period_start', 'zone_type', 'zone']) }}
            as time_in_zones_by_period_id,
        *,
        cast(time_s as {{ strava_type('double') }}) / 3600.0 as time_h,
        cast(time_s as {{ strava_type('double') }})
            / sum(time_s) over (partition by athlete_id, sport_type, period_kind, period_start, zone_type)
            as share_of_time
    from totals

)

select * from final
