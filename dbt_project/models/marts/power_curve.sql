{#- The best mean-maximal power per athlete x sport x period x ladder duration, and the activity that holds it:
    all time, each calendar year (season), and the last 42 and 90 days up to as_of_date. Ties go to the earlier
    activity: the one that set it first. -#}
with

curves as (

    select * from {{ ref('activity_power_curve') }}

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
        curves.duration_s,
        curves.duration_label,
        curves.power_w,
        curves.activity_id,
        curves.start_date_local as achieved_on,
        curves.window_start_s,
        row_number() over (
            partition by curves.athlete_id, curves.sport_type, periods.period, curves.duration_s
            order by curves.power_w desc, curves.start_date_local, curves.activity_id
        ) as rank_in_period
    from curves
    inner join periods on curves.start_date_local between periods.from_date and periods.to_date

),

final as (

    select
        {{ surrogate_key(['athlete_id', 'sport_type', 'period', 'duration_s']) }} as power_curve_id,
        ranked.athlete_id,
        ranked.sport_type,
        ranked.period_kind,
        ranked.period,
        ranked.season_year,
        ranked.duration_s,
        ranked.duration_label,
        ranked.power_w,
        ranked.activity_id,
        ranked.achieved_on,
        ranked.window_start_s,
        activities.activity_name
    from ranked
    left join activities on activities.activity_id = ranked.activity_id
    where rank_in_period = 1

)

select * from final
