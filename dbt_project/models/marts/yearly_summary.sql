{#- ytd_*: the activities of the year up to the same day of the year as as_of_date (month and day), so every year
    is compared over the same stretch of the calendar as this year so far. -#}
with

activities as (

    select
        athlete_id,
        sport_type,
        {{ year_of('start_date_local') }} as year,
        {{ month_day('start_date_local') }} <= {{ month_day(as_of_date()) }} as is_year_to_date,
        distance_km,
        moving_time_s,
        elevation_gain_m
    from {{ ref('fct_activities') }}

),

bounds as (

    select
        athlete_id,
        sport_type,
        min(year) as first_year,
        greatest(max(max(year)) over (partition by athlete_id), {{ year_of(as_of_date()) }}) as last_year
    from activities
    group by athlete_id, sport_type

),

spine as (

    select athlete_id, sport_type, {{ integer_series('first_year', 'last_year') }} as year
    from bounds

),

totals as (

    select
        athlete_id,
        sport_type,
        year,
        count(*) as activity_count,
        sum(distance_km) as distance_km,
        sum(moving_time_s) as moving_time_s,
        sum(elevation_gain_m) as elevation_gain_m,
        count(*) filter (where is_year_to_date) as ytd_activity_count,
        sum(distance_km) filter (where is_year_to_date) as ytd_distance_km,
        sum(moving_time_s) filter (where is_year_to_date) as ytd_moving_time_s,
        sum(elevation_gain_m) filter (where is_year_to_date) as ytd_elevation_gain_m
    from activities
    group by athlete_id, sport_type, year

),

filled as (

    select
        spine.athlete_id,
        spine.sport_type,
        spine.year,
        coalesce(totals.activity_count, 0) as activity_count,
        coalesce(totals.distance_km, 0) as distance_km,
        coalesce(totals.moving_time_s, 0) / 3600.0 as moving_time_h,
        coalesce(totals.elevation_gain_m, 0) as elevation_gain_m,
        coalesce(totals.ytd_activity_count, 0) as ytd_activity_count,
        coalesce(totals.ytd_distance_km, 0) as ytd_distance_km,
        coalesce(totals.ytd_moving_time_s, 0) / 3600.0 as ytd_moving_time_h,
        coalesce(totals.ytd_elevation_gain_m, 0) as ytd_elevation_gain_m
    from spine
    left join totals
        on totals.athlete_id = spine.athlete_id
        and totals.sport_type = spine.sport_type
        and totals.year = spine.year

),

final as (

    select
        {{ surrogate_key(['athlete_id', 'sport_type', 'year']) }} as year_summary_id,
        athlete_id,
        sport_type,
        year,
        year = {{ year_of(as_of_date()) }} as is_current_year,
        {{ as_of_date() }} as ytd_as_of_date,
        activity_count,
        distance_km,
        moving_time_h,
        elevation_gain_m,
        ytd_activity_count,
        ytd_distance_km,
        ytd_moving_time_h,
        ytd_elevation_gain_m,
        lag(activity_count) over by_year as prev_year_activity_count,
        lag(distance_km) over by_year as prev_year_distance_km,
        lag(ytd_activity_count) over by_year as prev_year_ytd_activity_count,
        lag(ytd_distance_km) over by_year as prev_year_ytd_distance_km,
        lag(ytd_moving_time_h) over by_year as prev_year_ytd_moving_time_h,
        lag(ytd_elevation_gain_m) over by_year as prev_year_ytd_elevation_gain_m,
        ytd_distance_km - lag(ytd_distance_km) over by_year as ytd_distance_km_change,
        100.0 * (ytd_distance_km - lag(ytd_distance_km) over by_year) / nullif(lag(ytd_distance_km) over by_year, 0)
            as ytd_distance_km_change_pct,
        ytd_moving_time_h - lag(ytd_moving_time_h) over by_year as ytd_moving_time_h_change
    from filled
    window by_year as (partition by athlete_id, sport_type order by year)

)

select * from final
