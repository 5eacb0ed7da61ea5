with

activities as (

    select activity_id, athlete_id, sport_type from {{ ref('fct_activities') }}

),

points as (

    select * from {{ ref('stg_strava__activity_streams') }}

),

final as (

    select
        points.stream_point_id,
        points.activity_id,
        activities.athlete_id,
        activities.sport_type,
        points.point_index,
        points.elapsed_s,
        points.distance_m / 1000.0 as distance_km,
        points.lat,
        points.lng,
        points.altitude_m,
        points.speed_kmh,
        case when {{ is_run('activities.sport_type') }} and points.speed_kmh > 0 then 60.0 / points.speed_kmh end
            as pace_min_per_km,
        points.heartrate_bpm,
        points.cadence_rpm,
        points.power_w,
        points.temperature_c,
        points.is_moving,
        points.grade_pct
    from points
    -- deleted activities are not in fct_activities: their streams are not published
    inner join activities on activities.activity_id = points.activity_id
    -- a point inside a privacy zone of the athlete (with the margin) is left out altogether, not just its position
    where not (points.lat is not null and {{ in_privacy_zone('points.lat', 'points.lng', 'activities.athlete_id') }})

)

select * from final
