with

source as (

    {{ strava_source('activity_details', {
        'id': 'bigint', 'athlete_id': 'bigint', 'description': 'varchar', 'calories': 'double',
        'device_name': 'varchar', 'gear_id': 'varchar', 'perceived_exertion': 'double',
        'prefer_perceived_exertion': 'boolean', 'hide_from_home': 'boolean', 'workout_type': 'bigint',
        'segment_effort_count': 'bigint', 'splits_metric': 'json', 'splits_standard': 'json',
        'available_zones': 'json', 'polyline': 'varchar', 'fetched_at': 'timestamptz',
    }) }}

),

renamed as (

    select
        id as activity_id,
        coalesce(athlete_id, 0) as athlete_id,
        description as activity_description,
        calories as energy_kcal,
        device_name,
        gear_id,
        perceived_exertion,
        coalesce(prefer_perceived_exertion, false) as prefers_perceived_exertion,
        coalesce(hide_from_home, false) as is_hidden_from_home,
        workout_type,
        segment_effort_count,
        -- 1 km splits: [{distance, elapsed_time, elevation_difference, moving_time, split, average_speed, ...}]
        splits_metric as splits_metric_json,
        splits_standard as splits_standard_json,
        available_zones as available_zones_json,
        -- privacy sensitive: the full-resolution route; never selected by a mart
        nullif(polyline, '') as full_polyline,
        timezone('UTC', fetched_at) as fetched_at_utc
    from source

)

select * from renamed
