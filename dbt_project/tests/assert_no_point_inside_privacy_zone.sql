{#- Nothing that leaves the warehouse may show a place inside a privacy zone (seeds/privacy_zones.csv, radius_m as
    written, without the masking margin). Checked independently of the masking code, on what readers get:
    - every vertex of every published route, read back from its GeoJSON and WKT text and from the geometry;
    - every segment of every route (a simplified line may cut a corner even if its vertices are outside);
    - every point of activity_streams_masked and the start / end points of fct_activities.
    A zone with an athlete_id guards that athlete's activities, one without guards everybody's. Whose activity a
    point belongs to comes from stg_strava__activities by activity_id, not from the published table's athlete_id
    (a masking that lost or mixed up the athlete must not pass); an activity of unknown athlete (0, or none in
    staging) is checked against every zone.
    Distances come from the warehouse's spatial functions (ellipsoidal for points, UTM for segments: macros/cross_db/spatial.sql), never from
    the haversine_m macro the masking uses: a bug in the macro must not hide itself. The two distance models differ
    by < 0.5 %, far less than the masking margin. One row per offending point, with the zone and how deep inside
    it lies. -#}
{#- In Dagster, a check of the published routes (it reads several models: the asset it is shown on is named). -#}
{{ config(meta={'dagster': {'ref': {'name': 'activity_routes_masked'}}}) }}

with

zones as (

    select
        name as zone_name,
        {{ privacy_zone_athlete_id(ref('privacy_zones')) }} as athlete_id,
        lat,
        lon as lng,
        radius_m
    from {{ ref('privacy_zones') }}

),

owners as (

    -- two different athletes for one id (a broken key) count as unknown: every zone applies
    select activity_id, case when min(athlete_id) = max(athlete_id) then min(athlete_id) end as athlete_id
    from {{ ref('stg_strava__activities') }}
    group by activity_id

),

routes as (

    select activity_id, utm_epsg, route_geom, route_wkt, route_geojson from {{ ref('activity_routes_masked') }}

),

route_vertices as (

    select 'activity_routes_masked.' || form as published_as, activity_id, st_y(vertex.geom) as lat, st_x(vertex.geom) as lng
    from (
        select activity_id, 'route_geojson' as form, st_geomfromgeojson(route_geojson) as geom from routes
        union all
        select activity_id, 'route_wkt', st_geomfromtext(route_wkt) from routes
        union all
        select activity_id, 'route_geom', route_geom from routes
    ) as published,
    {{ vertices_lateral('published.geom') }}

),

published_points as (

    select published_as, activity_id, lat, lng from route_vertices
    union all
    select 'activity_streams_masked', activity_id, lat, lng
    from {{ ref('activity_streams_masked') }}
    where lat is not null
    union all
    select 'fct_activities.start', activity_id, start_lat_masked, start_lng_masked
    from {{ ref('fct_activities') }}
    where start_lat_masked is not null
    union all
    select 'fct_activities.end', activity_id, end_lat_masked, end_lng_masked
    from {{ ref('fct_activities') }}
    where end_lat_masked is not null

),

points_inside as (

    select
        points.published_as,
        points.activity_id,
        owners.athlete_id,
        zones.zone_name,
        zones.radius_m,
        -- WGS84 ellipsoid; this function takes its points in (lat, lng) order
        {{ spheroid_distance_m('points.lat', 'points.lng', 'zones.lat', 'zones.lng') }} as distance_m
    from published_points as points
    left join owners on owners.activity_id = points.activity_id
    inner join zones
        on zones.athlete_id is null or coalesce(owners.athlete_id, 0) = 0 or zones.athlete_id = owners.athlete_id
    where {{ spheroid_distance_m('points.lat', 'points.lng', 'zones.lat', 'zones.lng') }} < zones.radius_m

),

-- the whole line, in the activity's own metric CRS
segments_inside as (

    select
        'activity_routes_masked.route_geom (segment)' as published_as,
        routes.activity_id,
        owners.athlete_id,
        zones.zone_name,
        zones.radius_m,
        {{ utm_distance_m('routes.route_geom', 'zones.lat', 'zones.lng', 'routes.utm_epsg') }} as distance_m
    from routes
    left join owners on owners.activity_id = routes.activity_id
    inner join zones
        on zones.athlete_id is null or coalesce(owners.athlete_id, 0) = 0 or zones.athlete_id = owners.athlete_id

)

select * from points_inside
union all
select * from segments_inside where distance_m < radius_m
