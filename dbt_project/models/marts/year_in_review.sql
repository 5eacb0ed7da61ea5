{#- One row per athlete x calendar year (local dates) with activity: the year's totals, its biggest day and week
    (most moving time), longest activity (moving time), longest streak of consecutive active days (within the
    year), personal bests set (an effort of the power or pace curve better than every earlier one of the athlete
    in that sport: standard distances, and power over 1 min / 5 min / 20 min / 1 h), the weekday and start hour
    with the most activities, the main sport and the gear used. -#}
with

activities as (

    select
        activity_id,
        athlete_id,
        activity_name,
        sport_type,
        start_date_local,
        start_at_local,
        {{ year_of('start_date_local') }} as review_year,
        distance_km,
        moving_time_s,
        elevation_gain_m,
        coalesce(training_load, 0) as training_load,
        gear_name
    from {{ ref('fct_activities') }}

),

days as (

    select * from {{ ref('daily_calendar') }} where activity_count > 0

),

totals as (

    select
        athlete_id,
        review_year,
        count(*) as activity_count,
        count(distinct start_date_local) as active_days,
        sum(distance_km) as distance_km,
        sum(moving_time_s) as moving_time_s,
        sum(elevation_gain_m) as elevation_gain_m,
        sum(training_load) as training_load,
        string_agg(distinct gear_name, ', ' order by gear_name) as gear_used,
        count(distinct gear_name) as gear_count
    from activities
    group by athlete_id, review_year

),

main_sport as (

    select athlete_id, review_year, {{ value_at_max('sport_type', 'sport_time_s') }} as main_sport_type
    from (
        select athlete_id, review_year, sport_type, sum(moving_time_s) as sport_time_s
        from activities
        group by athlete_id, review_year, sport_type
    ) as sport_times
    group by athlete_id, review_year

),

biggest_day as (

    select
        athlete_id,
        calendar_year as review_year,
        {{ value_at_max('calendar_date', 'moving_time_s') }} as biggest_day,
        max(moving_time_s) as biggest_day_moving_time_s,
        {{ value_at_max('distance_km', 'moving_time_s') }} as biggest_day_distance_km
    from days
    group by athlete_id, calendar_year

),

biggest_week as (

    select
        athlete_id,
        review_year,
        {{ value_at_max('week_start', 'moving_time_s') }} as biggest_week_start,
        max(moving_time_s) as biggest_week_moving_time_s,
        {{ value_at_max('distance_km', 'moving_time_s') }} as biggest_week_distance_km
    from (
        select
            athlete_id,
            {{ year_of('start_date_local') }} as review_year,
            cast(date_trunc('week', start_date_local) as date) as week_start,
            sum(moving_time_s) as moving_time_s,
            sum(distance_km) as distance_km
        from activities
        group by athlete_id, {{ year_of('start_date_local') }}, cast(date_trunc('week', start_date_local) as date)
    ) as weeks
    group by athlete_id, review_year

),

longest_activity as (

    select
        athlete_id,
        review_year,
        {{ value_at_max('activity_id', 'moving_time_s') }} as longest_activity_id,
        {{ value_at_max('activity_name', 'moving_time_s') }} as longest_activity_name,
        {{ value_at_max('sport_type', 'moving_time_s') }} as longest_activity_sport_type,
        max(moving_time_s) as longest_activity_moving_time_s,
        {{ value_at_max('distance_km', 'moving_time_s') }} as longest_activity_distance_km
    from activities
    group by athlete_id, review_year

),

-- consecutive active days share calendar_date - row number (gaps and islands)
streaks as (

    select
        athlete_id,
        review_year,
        max(streak_days) as longest_streak_days,
        {{ value_at_max('streak_start', 'streak_days') }} as longest_streak_start
    from (
        select athlete_id, calendar_year as review_year, island, count(*) as streak_days,
               min(calendar_date) as streak_start
        from (
            select
                athlete_id,
                calendar_year,
                calendar_date,
                calendar_date - cast(row_number() over (
                    partition by athlete_id, calendar_year order by calendar_date
                ) as integer) as island
            from days
        ) as days_numbered
        group by athlete_id, calendar_year, island
    ) as islands
    group by athlete_id, review_year

),

weekday_hour as (

    select
        athlete_id,
        review_year,
        {{ most_frequent(weekday_name('start_at_local')) }} as most_active_weekday,
        {{ most_frequent('cast(extract(hour from start_at_local) as integer)') }} as most_active_hour
    from activities
    group by athlete_id, review_year

),

efforts as (

    select athlete_id, sport_type, 'pace ' || effort as effort, start_date_local, activity_id,
           -pace_s_per_km as score
    from {{ ref('activity_pace_curve') }}
    where curve_kind = 'distance'
    union all
    select athlete_id, sport_type, 'power ' || duration_label, start_date_local, activity_id, power_w
    from {{ ref('activity_power_curve') }}
    where duration_s in (60, 300, 1200, 3600)

),

personal_bests as (

    select athlete_id, {{ year_of('start_date_local') }} as review_year, count(*) as personal_bests_set
    from (
        select
            *,
            max(score) over (
                partition by athlete_id, sport_type, effort order by start_date_local, activity_id
                rows between unbounded preceding and 1 preceding
            ) as best_before
        from efforts
    ) as scored
    where best_before is null or score > best_before
    group by athlete_id, {{ year_of('start_date_local') }}

),

final as (

    select
        {{ surrogate_key(['totals.athlete_id', 'totals.review_year']) }} as year_in_review_id,
        totals.*,
        totals.moving_time_s / 3600.0 as moving_time_h,
        main_sport.main_sport_type,
        biggest_day.biggest_day,
        biggest_day.biggest_day_moving_time_s,
        biggest_day.biggest_day_distance_km,
        biggest_week.biggest_week_start,
        biggest_week.biggest_week_moving_time_s,
        biggest_week.biggest_week_distance_km,
        longest_activity.longest_activity_id,
        longest_activity.longest_activity_name,
        longest_activity.longest_activity_sport_type,
        longest_activity.longest_activity_moving_time_s,
        longest_activity.longest_activity_distance_km,
        streaks.longest_streak_days,
        streaks.longest_streak_start,
        coalesce(personal_bests.personal_bests_set, 0) as personal_bests_set,
        weekday_hour.most_active_weekday,
        weekday_hour.most_active_hour
    from totals
    left join main_sport using (athlete_id, review_year)
    left join biggest_day using (athlete_id, review_year)
    left join biggest_week using (athlete_id, review_year)
    left join longest_activity using (athlete_id, review_year)
    left join streaks using (athlete_id, review_year)
    left join personal_bests using (athlete_id, review_year)
    left join weekday_hour using (athlete_id, review_year)

)

select * from final
