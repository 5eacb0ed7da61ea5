with

source as (

    {{ strava_source('activities', {
        'id': 'bigint', 'athlete_id': 'bigint', 'athlete__id': 'bigint', 'name': 'varchar', 'type': 'varchar',
        'sport_type': 'varchar', 'workout_type': 'bigint', 'start_date': 'timestamptz', 'start_date_local': 'varchar',
        'timezone': 'varchar', 'utc_offset': 'double', 'distance': 'double', 'moving_time': 'bigint',
        'elapsed_time': 'bigint', 'total_elevation_gain': 'double', 'elev_high': 'double', 'elev_low': 'double',
        'average_speed': 'double', 'max_speed': 'double', 'average_cadence': 'double', 'average_temp': 'double',
        'average_watts': 'double', 'weighted_average_watts': 'double', 'max_watts': 'double', 'kilojoules': 'double',
        'device_watts': 'boolean', 'has_heartrate': 'boolean', 'average_heartrate': 'double',
        'max_heartrate': 'double', 'suffer_score': 'double', 'achievement_count': 'bigint', 'kudos_count': 'bigint',
        'comment_count': 'bigint', 'athlete_count': 'bigint', 'photo_count': 'bigint', 'total_photo_count': 'bigint',
        'pr_count': 'bigint', 'trainer': 'boolean', 'commute': 'boolean', 'manual': 'boolean', 'private': 'boolean',
        'flagged': 'boolean', 'visibility': 'varchar', 'gear_id': 'varchar', 'upload_id': 'bigint',
        'external_id': 'varchar', 'map__summary_polyline': 'varchar', 'start_latlng': 'json', 'end_latlng': 'json',
        'source': 'varchar', 'deleted': 'boolean', 'deleted_at': 'timestamptz', 'archive_fields': 'json',
    }, required=true) }}

),

renamed as (

    select
        id as activity_id,
        -- an archive import knows no athlete: 0 until the API fills it in
        coalesce(athlete_id, athlete__id, 0) as athlete_id,
        name as activity_name,
        coalesce(sport_type, type) as sport_type,
        type as activity_type,
        workout_type,

        -- start_date is UTC; start_date_local is the local wall clock with a misleading Z
        timezone('UTC', start_date) as start_at_utc,
        coalesce(
            {{ local_timestamp('start_date_local') }},
            timezone('UTC', start_date) + {{ seconds_interval('coalesce(utc_offset, 0)') }}
        ) as start_at_local,
        -- '(GMT+01:00) Europe/Ljubljana': the label is the standard offset, the IANA name after it is what counts
        nullif(trim(regexp_replace(timezone, '^\(GMT[^)]*\)\s*', '')), '') as timezone_name,
        utc_offset as utc_offset_s,

        distance as distance_m,
        distance / 1000.0 as distance_km,
        moving_time as moving_time_s,
        elapsed_time as elapsed_time_s,
        total_elevation_gain as elevation_gain_m,
        elev_high as elevation_high_m,
        elev_low as elevation_low_m,
        average_speed * 3.6 as avg_speed_kmh,
        max_speed * 3.6 as max_speed_kmh,
        case
            when {{ is_run('coalesce(sport_type, type)') }} and distance > 0 and moving_time > 0
                then (moving_time / 60.0) / (distance / 1000.0)
        end as pace_min_per_km,

        average_heartrate as avg_heartrate_bpm,
        max_heartrate as max_heartrate_bpm,
        coalesce(has_heartrate, average_heartrate is not null) as has_heartrate,
        average_cadence as avg_cadence_rpm,
        average_temp as avg_temperature_c,
        average_watts as avg_power_w,
        weighted_average_watts as weighted_avg_power_w,
        max_watts as max_power_w,
        coalesce(device_watts, false) as has_power_meter,
        kilojoules as energy_kj,
        suffer_score,

        achievement_count,
        kudos_count,
        comment_count,
        athlete_count,
        coalesce(total_photo_count, photo_count) as photo_count,
        pr_count,

        coalesce(trainer, false) as is_trainer,
        coalesce(commute, false) as is_commute,
        coalesce(manual, false) as is_manual,
        coalesce(private, false) as is_private,
        coalesce(flagged, false) as is_flagged,
        visibility,
        gear_id,
        -- the bulk export names the gear ('Activity Gear') but has no id for shoes
        nullif(trim({{ json_text('archive_fields', 'gear_name') }}), '') as archive_gear_name,
        upload_id,
        external_id,
        coalesce(source, 'api') as source,

        -- privacy sensitive: the marts publish these only through the privacy masking
        nullif(map__summary_polyline, '') as summary_polyline,
        {{ json_array_double('start_latlng', 0) }} as start_lat,
        {{ json_array_double('start_latlng', 1) }} as start_lng,
        {{ json_array_double('end_latlng', 0) }} as end_lat,
        {{ json_array_double('end_latlng', 1) }} as end_lng

    from source
    -- deleted on Strava: kept in the raw table for the record, gone from everything downstream
    where not coalesce(deleted, false)

),

families as (

    -- sport families as strava_pipeline/archive/file_sports.py has them (keep the two in step); Workout is generic
    select
        activity_id,
        source,
        start_at_utc,
        case
            when sport_type is null or sport_type = 'Workout' then null
            when sport_type in ('Ride', 'VirtualRide', 'MountainBikeRide', 'GravelRide', 'EBikeRide',
                'EMountainBikeRide', 'Velomobile', 'Handcycle') then 'Ride'
            when sport_type in ('Run', 'TrailRun', 'VirtualRun') then 'Run'
            when sport_type in ('Walk', 'Hike', 'Snowshoe') then 'Foot'
            when sport_type in ('Rowing', 'VirtualRow') then 'Row'
            when sport_type in ('Canoeing', 'Kayaking', 'StandUpPaddling') then 'Paddle'
            when sport_type in ('NordicSki', 'AlpineSki', 'BackcountrySki', 'RollerSki', 'Snowboard') then 'Ski'
            else sport_type
        end as sport_family
    from renamed

),

deduplicated as (

    -- one activity per recording (strava_pipeline/archive/dedupe.py): a loose-file row that an API or archive row
    -- stands for (start within 60 s, compatible sport) is left out; the next import removes it from the raw table
    select renamed.*
    from renamed
    inner join families f on f.activity_id = renamed.activity_id
    where f.source <> 'file' or not exists (
        select 1
        from families o
        where o.source <> 'file'
            and abs({{ epoch_s('o.start_at_utc') }} - {{ epoch_s('f.start_at_utc') }}) <= 60
            and (o.sport_family is null or f.sport_family is null or o.sport_family = f.sport_family)
    )

),

final as (

    select
        *,
        cast(start_at_local as date) as start_date_local,
        summary_polyline is not null or start_lat is not null as has_gps
    from deduplicated

)

select * from final
