{#- One row per athlete x gear: distance, moving time and activities per shoe or bike, first and last use, from the
    API's gear (gear_id) and from the bulk export's 'Activity Gear' name for archive activities without an id
    (gear key 'archive:<name>'; an archive name equal to an API gear's name counts for that gear). -#}
with

activities as (

    select
        fct.activity_id,
        fct.athlete_id,
        fct.sport_type,
        fct.start_date_local,
        fct.distance_km,
        fct.moving_time_s,
        fct.elevation_gain_m,
        fct.gear_id,
        stg.archive_gear_name
    from {{ ref('fct_activities') }} as fct
    inner join {{ ref('stg_strava__activities') }} as stg on stg.activity_id = fct.activity_id

),

gear as (

    select gear_id, athlete_id, gear_name, gear_type, brand_name, model_name, distance_km as strava_distance_km,
           is_retired, is_primary
    from {{ ref('stg_strava__gear') }}

),

keyed as (

    select
        activities.*,
        coalesce(activities.gear_id, by_name.gear_id, 'archive:' || activities.archive_gear_name) as gear_key
    from activities
    left join gear as by_name
        on activities.gear_id is null
        and by_name.gear_name = activities.archive_gear_name
    where activities.gear_id is not null or activities.archive_gear_name is not null

),

totals as (

    select
        athlete_id,
        gear_key,
        {{ any_value_of('archive_gear_name') }} as archive_gear_name,
        count(*) as activity_count,
        sum(distance_km) as distance_km,
        sum(moving_time_s) as moving_time_s,
        sum(elevation_gain_m) as elevation_gain_m,
        min(start_date_local) as first_used_on,
        max(start_date_local) as last_used_on,
        {{ most_frequent('sport_type') }} as main_sport_type
    from keyed
    group by athlete_id, gear_key

),

final as (

    select
        {{ surrogate_key(['totals.athlete_id', 'totals.gear_key']) }} as gear_summary_id,
        totals.athlete_id,
        totals.gear_key,
        gear.gear_id,
        coalesce(gear.gear_name, totals.archive_gear_name) as gear_name,
        coalesce(
            gear.gear_type,
            case when {{ is_run('totals.main_sport_type') }} or totals.main_sport_type in ('Walk', 'Hike')
                then 'shoes' when {{ is_ride('totals.main_sport_type') }} then 'bike' else 'other' end
        ) as gear_type,
        gear.brand_name,
        gear.model_name,
        coalesce(gear.is_retired, false) as is_retired,
        coalesce(gear.is_primary, false) as is_primary,
        case when gear.gear_id is not null then 'api' else 'archive' end as gear_source,
        totals.main_sport_type,
        totals.activity_count,
        totals.distance_km,
        totals.moving_time_s,
        totals.moving_time_s / 3600.0 as moving_time_h,
        totals.elevation_gain_m,
        totals.first_used_on,
        totals.last_used_on,
        -- Strava's own odometer (includes distance added by hand on strava.com)
        gear.strava_distance_km
    from totals
    left join gear on gear.gear_id = totals.gear_key

)

select * from final
