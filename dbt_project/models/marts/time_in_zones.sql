{#- Seconds each activity spent in each heart-rate, power and pace zone (int_athlete_zones: Strava's zones, else the
    seed's defaults), from the 1 Hz resampled streams (int_activity_streams__1hz): heart rate where recorded, power
    where the activity has a power stream (0 W counts, zone 1), pace for runs while moving (distance gained in the
    second); seconds in a pause over 5 s count in no zone. A zone the activity never reached has no row. -#}
with

activities as (

    select activity_id, athlete_id, sport_type, start_date_local
    from {{ ref('fct_activities') }}

),

zones as (

    select * from {{ ref('int_athlete_zones') }}

),

seconds as (

    select
        streams.activity_id,
        activities.athlete_id,
        case
            when zone_type = 'heartrate' then streams.heartrate_bpm
            when zone_type = 'power' then streams.power_w
            -- speed in m/s, only for runs while moving
            when {{ is_run('activities.sport_type') }} and streams.distance_m > 0 then streams.distance_m
        end as value,
        zone_type
    from {{ ref('int_activity_streams__1hz') }} as streams
    inner join activities on activities.activity_id = streams.activity_id
    cross join (values ('heartrate'), ('power'), ('pace')) as types(zone_type)

),

per_zone as (

    select
        seconds.activity_id,
        seconds.zone_type,
        zones.zone,
        {{ any_value_of('zones.zone_name') }} as zone_name,
        {{ any_value_of('zones.lower_bound') }} as lower_bound,
        {{ any_value_of('zones.upper_bound') }} as upper_bound,
        {{ any_value_of('zones.zone_source') }} as zone_source,
        count(*) as time_s
    from seconds
    inner join zones
        on zones.athlete_id = seconds.athlete_id
        and zones.zone_type = seconds.zone_type
        and seconds.value >= zones.lower_bound
        and (zones.upper_bound is null or seconds.value < zones.upper_bound)
    where seconds.value is not null
    group by seconds.activity_id, seconds.zone_type, zones.zone

),

final as (

    select
        {{ surrogate_key(['per_zone.activity_id', 'zone_type', 'zone']) }} as time_in_zone_id,
        per_zone.activity_id,
        activities.athlete_id,
        activities.sport_type,
        activities.start_date_local,
        per_zone.zone_type,
        per_zone.zone,
        per_zone.zone_name,
        per_zone.lower_bound,
        per_zone.upper_bound,
        per_zone.zone_source,
        per_zone.time_s,
        cast(per_zone.time_s as {{ strava_type('double') }})
            / sum(per_zone.time_s) over (partition by per_zone.activity_id, per_zone.zone_type) as share_of_time
    from per_zone
    inner join activities on activities.activity_id = per_zone.activity_id

)

select * from final
