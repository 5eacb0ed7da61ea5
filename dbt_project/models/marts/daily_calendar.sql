{#- One row per athlete x day (local dates) from 1 January of the athlete's first activity's year to as_of_date
    (days without activity are zero rows): training load, distance, moving time and activities, in total and per
    sport family (run, ride, swim, other), plus the grid position of a GitHub-style year calendar (week_of_year
    column from the week holding 1 January, weekday row from Monday) and a 0..4 intensity level (quartiles of the
    athlete's active days' load that year). -#}
with

activities as (

    select
        athlete_id,
        start_date_local as activity_date,
        sport_type,
        case
            when {{ is_run('sport_type') }} then 'run'
            when {{ is_ride('sport_type') }} or sport_type = 'EBikeRide' then 'ride'
            when sport_type = 'Swim' then 'swim'
            else 'other'
        end as sport_family,
        distance_km,
        moving_time_s,
        elevation_gain_m,
        coalesce(training_load, 0) as training_load
    from {{ ref('fct_activities') }}

),

bounds as (

    select athlete_id, cast(date_trunc('year', min(activity_date)) as date) as first_day, max(activity_date) as last_day
    from activities
    group by athlete_id

),

spine as (

    select
        athlete_id,
        {{ date_series('first_day', 'greatest(last_day, ' ~ as_of_date() ~ ')', 'day') }} as calendar_date
    from bounds

),

daily as (

    select
        athlete_id,
        activity_date,
        count(*) as activity_count,
        sum(distance_km) as distance_km,
        sum(moving_time_s) as moving_time_s,
        sum(elevation_gain_m) as elevation_gain_m,
        sum(training_load) as training_load,
        {%- for family in ['run', 'ride', 'swim', 'other'] %}
        count(*) filter (where sport_family = '{{ family }}') as {{ family }}_count,
        coalesce(sum(distance_km) filter (where sport_family = '{{ family }}'), 0) as {{ family }}_distance_km,
        coalesce(sum(moving_time_s) filter (where sport_family = '{{ family }}'), 0) as {{ family }}_moving_time_s,
        {%- endfor %}
        string_agg(distinct sport_type, ', ' order by sport_type) as sport_types,
        {{ value_at_max('sport_type', 'moving_time_s') }} as main_sport_type
    from activities
    group by athlete_id, activity_date

),

filled as (

    select
        spine.athlete_id,
        spine.calendar_date,
        coalesce(daily.activity_count, 0) as activity_count,
        coalesce(daily.distance_km, 0) as distance_km,
        coalesce(daily.moving_time_s, 0) as moving_time_s,
        coalesce(daily.elevation_gain_m, 0) as elevation_gain_m,
        coalesce(daily.training_load, 0) as training_load,
        {%- for family in ['run', 'ride', 'swim', 'other'] %}
        coalesce(daily.{{ family }}_count, 0) as {{ family }}_count,
        coalesce(daily.{{ family }}_distance_km, 0) as {{ family }}_distance_km,
        coalesce(daily.{{ family }}_moving_time_s, 0) as {{ family }}_moving_time_s,
        {%- endfor %}
        daily.sport_types,
        daily.main_sport_type
    from spine
    left join daily on daily.athlete_id = spine.athlete_id and daily.activity_date = spine.calendar_date

),

final as (

    select
        {{ surrogate_key(['athlete_id', 'calendar_date']) }} as daily_calendar_id,
        *,
        moving_time_s / 3600.0 as moving_time_h,
        {{ year_of('calendar_date') }} as calendar_year,
        -- ISO weekday: 1 = Monday .. 7 = Sunday
        cast(extract(isodow from calendar_date) as integer) as weekday,
        {{ weekday_abbrev('calendar_date') }} as weekday_name,
        -- the grid column: 0 for the week (Monday to Sunday) that holds 1 January
        cast(floor((calendar_date - cast(date_trunc('week', date_trunc('year', calendar_date)) as date)) / 7.0) as integer)
            as week_of_year,
        case
            when activity_count = 0 then 0
            else least(4, 1 + cast(floor(4 * percent_rank() over (
                partition by athlete_id, {{ year_of('calendar_date') }}, activity_count > 0
                order by training_load + moving_time_s / 3600.0
            )) as integer))
        end as intensity_level
    from filled

)

select * from final
