{#- Two kinds of record, one row each:
    best_effort: the fastest time over a standard distance (400m ... Marathon) found by Strava inside the runs
                 (activity detail), value = elapsed seconds;
    activity:    the longest distance, the longest moving time and the most climbing in one activity of each sport.
    Ties go to the earlier activity: the one that set the record first. -#}
with

activities as (

    select activity_id, athlete_id, sport_type, start_date_local, distance_km, moving_time_s, elevation_gain_m
    from {{ ref('fct_activities') }}

),

efforts as (

    select
        efforts.athlete_id,
        activities.sport_type,
        'best_effort' as record_kind,
        efforts.effort_name as record_name,
        cast(efforts.elapsed_time_s as {{ strava_type('double') }}) as record_value,
        's' as record_unit,
        efforts.activity_id,
        activities.start_date_local as achieved_on,
        efforts.elapsed_time_s,
        efforts.distance_km,
        efforts.pace_min_per_km,
        -- lowest time wins
        row_number() over (
            partition by efforts.athlete_id, activities.sport_type, efforts.effort_name
            order by efforts.elapsed_time_s, activities.start_date_local, efforts.activity_id
        ) as rank_in_record
    from {{ ref('stg_strava__activity_best_efforts') }} as efforts
    -- deleted activities are not in fct_activities: their efforts are no records
    inner join activities on activities.activity_id = efforts.activity_id
    where efforts.elapsed_time_s > 0

),

activity_records as (

    select
        athlete_id,
        sport_type,
        'activity' as record_kind,
        record_name,
        record_value,
        record_unit,
        activity_id,
        start_date_local as achieved_on,
        moving_time_s as elapsed_time_s,
        distance_km,
        cast(null as {{ strava_type('double') }}) as pace_min_per_km,
        -- highest value wins
        row_number() over (
            partition by athlete_id, sport_type, record_name
            order by record_value desc, start_date_local, activity_id
        ) as rank_in_record
    from activities
    cross join lateral (
        values
            ('Longest distance', distance_km, 'km'),
            ('Longest moving time', cast(moving_time_s as {{ strava_type('double') }}), 's'),
            ('Most elevation gain', elevation_gain_m, 'm')
    ) as records(record_name, record_value, record_unit)
    where record_value > 0

),

final as (

    select
        {{ surrogate_key(['athlete_id', 'sport_type', 'record_kind', 'record_name']) }} as personal_best_id,
        athlete_id, sport_type, record_kind, record_name, record_value, record_unit, activity_id, achieved_on,
        elapsed_time_s, distance_km, pace_min_per_km
    from (
        -- both CTEs list their columns in the same order
        select * from efforts where rank_in_record = 1
        union all
        select * from activity_records where rank_in_record = 1
    ) as records

)

select * from final
