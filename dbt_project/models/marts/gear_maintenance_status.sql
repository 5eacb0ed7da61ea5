{#- One row per gear x component of the seed gear_maintenance: the distance and moving time the gear (gear_summary,
    matched by name or id) covered since last_replaced_on, against replace_after_km / replace_after_h, and whether
    the component is due as of as_of_date. A plan row whose gear is unknown stays, flagged gear_found = false. -#}
with

plan as (

    select * from {{ ref('gear_maintenance') }}

),

gear as (

    select athlete_id, gear_key, gear_name from {{ ref('gear_summary') }}

),

uses as (

    select
        fct.activity_id,
        fct.start_date_local,
        fct.distance_km,
        fct.moving_time_s,
        coalesce(fct.gear_id, by_name.gear_key, 'archive:' || stg.archive_gear_name) as gear_key
    from {{ ref('fct_activities') }} as fct
    inner join {{ ref('stg_strava__activities') }} as stg on stg.activity_id = fct.activity_id
    left join gear as by_name on fct.gear_id is null and by_name.gear_name = stg.archive_gear_name

),

matched as (

    select plan.*, gear.athlete_id, gear.gear_key, gear.gear_name
    from plan
    left join gear on gear.gear_name = plan.gear or gear.gear_key = plan.gear

),

usage as (

    select
        matched.gear,
        matched.component,
        matched.athlete_id,
        coalesce(sum(uses.distance_km), 0) as distance_since_km,
        coalesce(sum(uses.moving_time_s), 0) / 3600.0 as moving_time_since_h
    from matched
    left join uses
        on uses.gear_key = matched.gear_key
        and uses.start_date_local >= coalesce(matched.last_replaced_on, date '1900-01-01')
        and uses.start_date_local <= {{ as_of_date() }}
    group by matched.gear, matched.component, matched.athlete_id

),

final as (

    select
        {{ surrogate_key(['matched.gear', 'matched.component', 'matched.athlete_id']) }} as gear_maintenance_status_id,
        matched.athlete_id,
        matched.gear,
        matched.gear_key,
        coalesce(matched.gear_name, matched.gear) as gear_name,
        matched.component,
        matched.replace_after_km,
        matched.replace_after_h,
        matched.last_replaced_on,
        matched.gear_key is not null as gear_found,
        usage.distance_since_km,
        usage.moving_time_since_h,
        matched.replace_after_km - usage.distance_since_km as remaining_km,
        matched.replace_after_h - usage.moving_time_since_h as remaining_h,
        coalesce(usage.distance_since_km >= matched.replace_after_km, false)
            or coalesce(usage.moving_time_since_h >= matched.replace_after_h, false) as is_due
    from matched
    inner join usage
        on usage.gear = matched.gear
        and usage.component = matched.component
        and usage.athlete_id is not distinct from matched.athlete_id

)

select * from final
