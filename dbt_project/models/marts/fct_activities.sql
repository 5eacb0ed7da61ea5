with

activities as (

    select * from {{ ref('stg_strava__activities') }}

),

details as (

    select activity_id, activity_description, energy_kcal, device_name, perceived_exertion, segment_effort_count
    from {{ ref('stg_strava__activity_details') }}

),

gear as (

    select gear_id, gear_name, gear_type from {{ ref('stg_strava__gear') }}

),

training_load as (

    select activity_id, training_load, training_load_source from {{ ref('int_activity_training_load') }}

),

routes as (

    select activity_id, published_length_km from {{ ref('int_activity_tracks__masked') }}

),

final as (

    select
        activities.activity_id,
        activities.athlete_id,
        activities.activity_name,
        activities.sport_type,
        activities.activity_type,
        activities.workout_type,
        activities.start_at_utc,
        activities.start_at_local,
        activities.start_date_local,
        activities.timezone_name,
        activities.utc_offset_s,

        activities.distance_km,
        activities.moving_time_s,
        activities.elapsed_time_s,
        activities.moving_time_s / 3600.0 as moving_time_h,
        activities.elevation_gain_m,
        activities.elevation_high_m,
        activities.elevation_low_m,
        activities.avg_speed_kmh,
        activities.max_speed_kmh,
        activities.pace_min_per_km,

        activities.has_heartrate,
        activities.avg_heartrate_bpm,
        activities.max_heartrate_bpm,
        activities.avg_cadence_rpm,
        activities.avg_temperature_c,
        activities.has_power_meter,
        activities.avg_power_w,
        activities.weighted_avg_power_w,
        activities.max_power_w,
        activities.energy_kj,
        details.energy_kcal,
        activities.suffer_score,
        training_load.training_load,
        training_load.training_load_source,
        details.perceived_exertion,

        activities.kudos_count,
        activities.comment_count,
        activities.achievement_count,
        activities.pr_count,
        activities.athlete_count,
        activities.photo_count,
        details.segment_effort_count,

        activities.is_trainer,
        activities.is_commute,
        activities.is_manual,
        activities.is_private,
        activities.visibility,
        activities.gear_id,
        gear.gear_name,
        gear.gear_type,
        details.device_name,
        details.activity_description,
        activities.external_id,
        activities.source,

        activities.has_gps,
        routes.activity_id is not null as has_published_route,
        routes.published_length_km,
        -- start and end only outside every privacy zone of the athlete (with the margin); never the raw polyline
        case when not {{ in_privacy_zone('activities.start_lat', 'activities.start_lng', 'activities.athlete_id') }}
            then activities.start_lat end as start_lat_masked,
        case when not {{ in_privacy_zone('activities.start_lat', 'activities.start_lng', 'activities.athlete_id') }}
            then activities.start_lng end as start_lng_masked,
        case when not {{ in_privacy_zone('activities.end_lat', 'activities.end_lng', 'activities.athlete_id') }}
            then activities.end_lat end as end_lat_masked,
        case when not {{ in_privacy_zone('activities.end_lat', 'activities.end_lng', 'activities.athlete_id') }}
            then activities.end_lng end as end_lng_masked

    from activities
    left join details on details.activity_id = activities.activity_id
    left join gear on gear.gear_id = activities.gear_id
    left join training_load on training_load.activity_id = activities.activity_id
    left join routes on routes.activity_id = activities.activity_id

)

select * from final
