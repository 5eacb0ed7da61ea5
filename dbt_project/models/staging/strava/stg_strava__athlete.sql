with

source as (

    {{ strava_source('athlete', {
        'athlete_id': 'bigint', 'firstname': 'varchar', 'lastname': 'varchar', 'city': 'varchar',
        'state': 'varchar', 'country': 'varchar', 'sex': 'varchar', 'weight': 'double', 'ftp': 'double',
        'measurement_preference': 'varchar', 'premium': 'boolean', 'created_at': 'timestamptz',
        'shoes': 'json', 'bikes': 'json', 'fetched_at': 'timestamptz',
    }) }}

),

renamed as (

    select
        athlete_id,
        firstname as first_name,
        lastname as last_name,
        nullif(trim(concat_ws(' ', firstname, lastname)), '') as athlete_name,
        nullif(city, '') as city,
        nullif(state, '') as state,
        nullif(country, '') as country,
        -- 'M', 'F' or NULL
        nullif(sex, '') as sex,
        weight as weight_kg,
        ftp as ftp_w,
        measurement_preference,
        coalesce(premium, false) as is_premium,
        timezone('UTC', created_at) as created_at_utc,
        shoes as shoes_json,
        bikes as bikes_json,
        timezone('UTC', fetched_at) as fetched_at_utc
    from source

)

select * from renamed
