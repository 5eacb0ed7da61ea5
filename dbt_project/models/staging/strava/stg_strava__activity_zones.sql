with

source as (

    {{ strava_source('activity_zones', {
        'activity_id': 'bigint', 'athlete_id': 'bigint', 'type': 'varchar', 'score': 'double',
        'points': 'double', 'sensor_based': 'boolean', 'custom_zones': 'boolean', 'distribution_buckets': 'json',
    }) }}

),

renamed as (

    select
        {{ surrogate_key(['activity_id', 'type']) }} as activity_zone_id,
        activity_id,
        coalesce(athlete_id, 0) as athlete_id,
        type as zone_type,
        score as zone_score,
        points as zone_points,
        coalesce(sensor_based, false) as is_sensor_based,
        coalesce(custom_zones, false) as has_custom_zones,
        -- [{min, max, time}, ...]; the last bucket's max is -1 (open-ended)
        distribution_buckets as distribution_buckets_json
    from source

)

select * from renamed
