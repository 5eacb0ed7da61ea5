{#- Fitness (CTL, 42-day), fatigue (ATL, 7-day) and form (TSB) from the daily training load (TRIMP, see
    int_activity_training_load), the Banister / TrainingPeaks performance-management model: every day from the
    athlete's first activity to as_of_date, days without activity count as load 0. TSB is yesterday's CTL minus
    yesterday's ATL (today's training does not change today's form). -#}
with

loads as (

    select athlete_id, start_date_local as activity_date, training_load, training_load_source
    from {{ ref('int_activity_training_load') }}

),

daily as (

    select
        athlete_id,
        activity_date,
        sum(training_load) as training_load,
        count(*) as activity_count,
        -- the weakest source that went into the day: a day is only as good as its worst estimate
        max(case training_load_source
                when 'hr_stream' then 1 when 'avg_heartrate' then 2 when 'suffer_score' then 3 else 4 end)
            as source_rank
    from loads
    group by athlete_id, activity_date

),

spine as (

    select
        athlete_id,
        {{ date_series('min(activity_date)', 'greatest(max(activity_date), ' ~ as_of_date() ~ ')', 'day') }}
            as load_date
    from daily
    group by athlete_id

),

filled as (

    select
        spine.athlete_id,
        spine.load_date,
        coalesce(daily.training_load, 0) as training_load,
        coalesce(daily.activity_count, 0) as activity_count,
        case daily.source_rank
            when 1 then 'hr_stream' when 2 then 'avg_heartrate' when 3 then 'suffer_score' when 4 then 'none'
        end as training_load_source
    from spine
    left join daily on daily.athlete_id = spine.athlete_id and daily.activity_date = spine.load_date

),

fitness as (

    select
        *,
        {{ ewma('training_load', 42, 'athlete_id', 'load_date', relation='filled') }} as ctl,
        {{ ewma('training_load', 7, 'athlete_id', 'load_date', relation='filled') }} as atl
    from filled

),

final as (

    select
        {{ surrogate_key(['athlete_id', 'load_date']) }} as training_load_id,
        athlete_id,
        load_date,
        activity_count,
        training_load,
        training_load_source,
        ctl,
        atl,
        coalesce(lag(ctl) over by_day - lag(atl) over by_day, 0) as tsb
    from fitness
    window by_day as (partition by athlete_id order by load_date)

)

select * from final
