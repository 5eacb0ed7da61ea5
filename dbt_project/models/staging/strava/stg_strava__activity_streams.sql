with

source as (

    {{ strava_source('activity_streams', {
        'athlete_id': 'bigint', 'activity_id': 'bigint', 'point_index': 'integer', 'time': 'integer',
        'distance': 'double', 'lat': 'double', 'lng': 'double', 'altitude': 'double', 'velocity_smooth': 'double',
        'heartrate': 'double', 'cadence': 'double', 'watts': 'double', 'temp': 'double', 'moving': 'boolean',
        'grade_smooth': 'double', 'source': 'varchar',
    }) }}

),

renamed as (

    select
        {{ surrogate_key(['activity_id', 'point_index']) }} as stream_point_id,
        activity_id,
        coalesce(athlete_id, 0) as athlete_id,
        point_index,
        time as elapsed_s,
        distance as distance_m,
        -- a fix outside the WGS84 range, or the (0, 0) some devices write before the first fix, is no position
        case when lat between -90 and 90 and lng between -180 and 180 and not (lat = 0 and lng = 0) then lat end as lat,
        case when lat between -90 and 90 and lng between -180 and 180 and not (lat = 0 and lng = 0) then lng end as lng,
        altitude as altitude_m,
        velocity_smooth * 3.6 as speed_kmh,
        heartrate as heartrate_bpm,
        cadence as cadence_rpm,
        watts as power_w,
        temp as temperature_c,
        moving as is_moving,
        grade_smooth as grade_pct,
        coalesce(source, 'api') as source
    from source

)

select * from renamed
