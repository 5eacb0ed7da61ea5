with

source as (

    {{ strava_source('gear', {
        'id': 'varchar', 'athlete_id': 'bigint', 'name': 'varchar', 'nickname': 'varchar',
        'brand_name': 'varchar', 'model_name': 'varchar', 'description': 'varchar', 'distance': 'double',
        'retired': 'boolean', 'primary': 'boolean', 'fetched_at': 'timestamptz',
    }) }}

),

renamed as (

    select
        id as gear_id,
        coalesce(athlete_id, 0) as athlete_id,
        -- ids start with g for shoes and b for bikes
        case left(id, 1) when 'g' then 'shoes' when 'b' then 'bike' else 'other' end as gear_type,
        coalesce(nullif(nickname, ''), name, id) as gear_name,
        brand_name,
        model_name,
        description as gear_description,
        distance / 1000.0 as distance_km,
        coalesce(retired, false) as is_retired,
        coalesce("primary", false) as is_primary,
        timezone('UTC', fetched_at) as fetched_at_utc
    from source

)

select * from renamed
