with

source as (

    {{ strava_source('fetch_log', {
        'activity_id': 'bigint', 'kind': 'varchar', 'status': 'varchar', 'athlete_id': 'bigint',
        'fetched_at': 'timestamptz',
    }) }}

),

renamed as (

    select
        {{ surrogate_key(['activity_id', 'kind']) }} as fetch_id,
        activity_id,
        coalesce(athlete_id, 0) as athlete_id,
        -- detail, streams or zones
        kind as fetch_kind,
        -- ok = fetched; none = Strava has nothing (404, or a manual activity without streams)
        status as fetch_status,
        timezone('UTC', fetched_at) as fetched_at_utc
    from source

)

select * from renamed
