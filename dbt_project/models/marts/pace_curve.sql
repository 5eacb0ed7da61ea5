{#- The best pace per athlete x sport (runs and swims) x period x effort (ladder duration or standard distance,
    see activity_pace_curve) and the activity that holds it: all time, each calendar year (season), and the last
    42 and 90 days up to as_of_date. Ties go to the earlier activity. -#}
with

curves as (

    select * from {{ ref('activity_pace_curve') }}

),

activities as (

    select activity_id, activity_name from {{ ref('fct_activities') }}

),

periods as (

    {{ curve_periods('curves') }}

),

ranked as (

    select
        curves.athlete_id,
        curves.sport_type,
        periods.period_kind,
        periods.period,
        periods.season_year,
        curves.curve_kind,
        curves.effort,
        curves.duration_s,
        curves.distance_m,
        curves.pace_s_per_km,
        curves.pace_s_per_100m,
        curves.activity_id,
        curves.start_date_local as achieved_on,
        curves.window_start_s,
        row_number() over (
            partition by curves.athlete_id, curves.sport_type, periods.period, curves.curve_kind, curves.effort
            order by curves.pace_s_per_km, curves.start_date_local, curves.activity_id
        ) as rank_in_period
    from curves
    inner join periods on curves.start_date_local between periods.from_date and periods.to_date

),

final as (

    select
        {{ surrogate_key(['athlete_id', 'sport_type', 'period', 'curve_kind', 'effort']) }} as pace_curve_id,
        ranked.athlete_id,
        ranked.sport_type,
        ranked.period_kind,
        ranked.period,
        ranked.season_year,
        ranked.curve_kind,
        ranked.effort,
        ranked.duration_s,
        ranked.distance_m,
        ranked.pace_s_per_km,
        ranked.pace_s_per_100m,
        ranked.activity_id,
        ranked.achieved_on,
        ranked.window_start_s,
        activities.activity_name
    from ranked
    left join activities on activities.activity_id = ranked.activity_id
    where rank_in_period = 1

)

select * from final
