with

source as (

    {{ strava_source('activity_best_efforts', {
        'id': 'bigint', 'activity_id': 'bigint', 'athlete_id': 'bigint', 'name': 'varchar',
        'elapsed_time': 'bigint', 'moving_time': 'bigint', 'start_date': 'timestamptz',
        'start_date_local': 'varchar', 'distance': 'double', 'pr_rank': 'bigint', 'start_index': 'bigint',
        'end_index': 'bigint',
    }) }}

),

renamed as (

    select
        id as best_effort_id,
        activity_id,
        coalesce(athlete_id, 0) as athlete_id,
        -- '400m', '1/2 mile', '1K' ... 'Marathon' as Strava names them
        name as effort_name,
        distance as distance_m,
        distance / 1000.0 as distance_km,
        elapsed_time as elapsed_time_s,
        moving_time as moving_time_s,
        case when distance > 0 and elapsed_time > 0 then (elapsed_time / 60.0) / (distance / 1000.0) end
            as pace_min_per_km,
        timezone('UTC', start_date) as start_at_utc,
        {{ local_timestamp('start_date_local') }} as start_at_local,
        -- Strava's rank among the athlete's efforts at the time: 1 = a PR then (it may have been beaten since)
        pr_rank,
        start_index as start_point_index,
        end_index as end_point_index
    from source

)

select * from renamed
