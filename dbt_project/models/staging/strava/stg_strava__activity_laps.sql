with

source as (

    {{ strava_source('activity_laps', {
        'id': 'bigint', 'activity_id': 'bigint', 'athlete_id': 'bigint', 'name': 'varchar', 'lap_index': 'bigint',
        'split': 'bigint', 'elapsed_time': 'bigint', 'moving_time': 'bigint', 'start_date': 'timestamptz',
        'start_date_local': 'varchar', 'distance': 'double', 'average_speed': 'double', 'max_speed': 'double',
        'start_index': 'bigint', 'end_index': 'bigint', 'total_elevation_gain': 'double',
        'average_cadence': 'double', 'average_watts': 'double', 'device_watts': 'boolean',
        'average_heartrate': 'double', 'max_heartrate': 'double', 'pace_zone': 'bigint',
    }) }}

),

renamed as (

    select
        id as lap_id,
        activity_id,
        coalesce(athlete_id, 0) as athlete_id,
        name as lap_name,
        lap_index,
        split as split_number,
        timezone('UTC', start_date) as start_at_utc,
        {{ local_timestamp('start_date_local') }} as start_at_local,
        distance / 1000.0 as distance_km,
        moving_time as moving_time_s,
        elapsed_time as elapsed_time_s,
        total_elevation_gain as elevation_gain_m,
        average_speed * 3.6 as avg_speed_kmh,
        max_speed * 3.6 as max_speed_kmh,
        case when distance > 0 and moving_time > 0 then (moving_time / 60.0) / (distance / 1000.0) end
            as pace_min_per_km,
        average_heartrate as avg_heartrate_bpm,
        max_heartrate as max_heartrate_bpm,
        average_cadence as avg_cadence_rpm,
        average_watts as avg_power_w,
        coalesce(device_watts, false) as has_power_meter,
        pace_zone,
        start_index as start_point_index,
        end_index as end_point_index
    from source

)

select * from renamed
