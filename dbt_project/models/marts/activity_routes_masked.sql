with

routes as (

    select * from {{ ref('int_activity_tracks__masked') }}

),

activities as (

    select activity_id, activity_name, sport_type, start_at_local, start_date_local, distance_km, is_private, visibility
    from {{ ref('fct_activities') }}

),

final as (

    select
        routes.activity_id,
        routes.athlete_id,
        activities.activity_name,
        activities.sport_type,
        activities.start_at_local,
        activities.start_date_local,
        activities.distance_km,
        -- only_me activities are masked like the rest; a report meant for others can leave them out
        activities.is_private,
        activities.visibility,
        routes.published_length_km,
        routes.part_count,
        routes.vertex_count,
        routes.touches_privacy_zone,
        routes.utm_epsg,
        st_ymin(routes.route_geom) as min_lat,
        st_ymax(routes.route_geom) as max_lat,
        st_xmin(routes.route_geom) as min_lng,
        st_xmax(routes.route_geom) as max_lng,
        -- WGS84, x = longitude, y = latitude; the text forms are for readers without the spatial extension
        st_astext(routes.route_geom) as route_wkt,
        st_asgeojson(routes.route_geom) as route_geojson,
        routes.route_geom
    from routes
    -- a deleted activity is not in fct_activities: its route is not published
    inner join activities on activities.activity_id = routes.activity_id

)

select * from final
