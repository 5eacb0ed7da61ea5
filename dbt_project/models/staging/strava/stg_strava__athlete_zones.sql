with

source as (

    {{ strava_source('athlete_zones', {
        'athlete_id': 'bigint', 'heart_rate': 'json', 'power': 'json', 'fetched_at': 'timestamptz',
    }) }}

),

renamed as (

    select
        athlete_id,
        coalesce({{ json_boolean('heart_rate', 'custom_zones') }}, false) as has_custom_heartrate_zones,
        -- lower bounds of the heart-rate zones in bpm, zone 1 first ({min, max} pairs; the last max is -1)
        {{ json_object_array_doubles('heart_rate', 'zones', 'min') }} as heartrate_zone_mins_bpm,
        heart_rate as heartrate_zones_json,
        power as power_zones_json,
        timezone('UTC', fetched_at) as fetched_at_utc
    from source

)

select * from renamed
