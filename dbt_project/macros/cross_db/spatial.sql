{#- Cross-database SQL, part 5: the spatial work of the privacy masking and of its test (see types.sql for how the
    dispatch works). DuckDB: the spatial extension (loaded offline by plugins/strava_duckdb.py); PostgreSQL: PostGIS.
    Both run the same steps on the same numbers: the line through the points in point_index order, transformed to
    the WGS84 / UTM zone of its first point, minus the union of the circles (mask_radius_m, 16 segments per
    quarter) of the zones that apply to its athlete (privacy_zone_applies in geo.sql), snapped to grid_m, simplified at simplify_m, made valid, kept as a MULTILINESTRING, back to WGS84. -#}

{#- The CTEs tracks .. final of int_activity_tracks__masked, from the CTE `points` (activity_id, athlete_id,
    point_index, lat, lng; lat not null) and the CTE `zones` (int_privacy_zones). final: activity_id, athlete_id,
    utm_epsg, raw_point_count, touches_privacy_zone, part_count, vertex_count, published_length_km, route_geom. -#}
{% macro masked_track_ctes(points, zones, grid_m, simplify_m) -%}
    {{ return(adapter.dispatch('masked_track_ctes', 'strava')(points, zones, grid_m, simplify_m)) }}
{%- endmacro %}

{% macro duckdb__masked_track_ctes(points, zones, grid_m, simplify_m) %}
tracks as (

    select
        activity_id,
        any_value(athlete_id) as athlete_id,
        count(*) as raw_point_count,
        {{ utm_epsg('arg_min(lat, point_index)', 'arg_min(lng, point_index)') }} as utm_epsg,
        min(lat) as min_lat,
        max(lat) as max_lat,
        min(lng) as min_lng,
        max(lng) as max_lng,
        st_makeline(list(st_point(lng, lat) order by point_index)) as track_wgs84
    from {{ points }}
    group by activity_id
    having count(*) >= 2

),

projected as (

    select
        tracks.* exclude (track_wgs84),
        'EPSG:' || utm_epsg as utm_crs,
        st_transform(track_wgs84, 'EPSG:4326', 'EPSG:' || utm_epsg, always_xy := true) as track_utm
    from tracks

),

-- the zones that can touch a track: zones of its athlete (or of everybody) whose box overlaps the track's box
zone_cover as (

    select
        projected.activity_id,
        st_union_agg(
            st_buffer(
                st_transform(st_point(zones.lng, zones.lat), 'EPSG:4326', projected.utm_crs, always_xy := true),
                zones.mask_radius_m,
                16
            )
        ) as cover_utm
    from projected
    inner join {{ zones }} as zones
        on zones.box_max_lat >= projected.min_lat and zones.box_min_lat <= projected.max_lat
        and {{ lng_ranges_overlap('zones.box_min_lng', 'zones.box_max_lng', 'projected.min_lng', 'projected.max_lng') }}
        and {{ privacy_zone_applies('zones.athlete_id', 'projected.athlete_id') }}
    group by projected.activity_id

),

masked as (

    select
        projected.activity_id,
        projected.athlete_id,
        projected.raw_point_count,
        projected.utm_epsg,
        projected.utm_crs,
        zone_cover.cover_utm is not null as touches_privacy_zone,
        -- a list of one route, or none when nothing is left: unnest drops the empty ones without a WHERE, which
        -- DuckDB would push down by copying (and running again) the whole masking expression for each condition
        unnest(list_filter([st_multi(st_collectionextract(
            st_makevalid(
                st_simplifypreservetopology(
                    st_reduceprecision(
                        case
                            when zone_cover.cover_utm is null then projected.track_utm
                            else st_difference(projected.track_utm, zone_cover.cover_utm)
                        end,
                        {{ grid_m }}
                    ),
                    {{ simplify_m }}
                )
            ),
            2
        ))], lambda route: not st_isempty(route) and st_length(route) > 0)) as route_utm
    from projected
    left join zone_cover on zone_cover.activity_id = projected.activity_id

),

final as (

    select
        activity_id,
        athlete_id,
        utm_epsg,
        raw_point_count,
        touches_privacy_zone,
        st_numgeometries(route_utm) as part_count,
        st_npoints(route_utm) as vertex_count,
        round(st_length(route_utm) / 1000.0, 1) as published_length_km,
        st_transform(route_utm, utm_crs, 'EPSG:4326', always_xy := true) as route_geom
    from masked

)
{% endmacro %}

{% macro postgres__masked_track_ctes(points, zones, grid_m, simplify_m) %}
tracks as (

    select
        activity_id,
        min(athlete_id) as athlete_id,
        count(*) as raw_point_count,
        {{ utm_epsg('(array_agg(lat order by point_index))[1]', '(array_agg(lng order by point_index))[1]') }}
            as utm_epsg,
        min(lat) as min_lat,
        max(lat) as max_lat,
        min(lng) as min_lng,
        max(lng) as max_lng,
        st_makeline(st_setsrid(st_makepoint(lng, lat), 4326) order by point_index) as track_wgs84
    from {{ points }}
    group by activity_id
    having count(*) >= 2

),

projected as (

    select
        activity_id, athlete_id, raw_point_count, utm_epsg, min_lat, max_lat, min_lng, max_lng,
        st_transform(track_wgs84, utm_epsg) as track_utm
    from tracks

),

-- the zones that can touch a track: zones of its athlete (or of everybody) whose box overlaps the track's box
zone_cover as (

    select
        projected.activity_id,
        st_union(
            st_buffer(
                st_transform(st_setsrid(st_makepoint(zones.lng, zones.lat), 4326), projected.utm_epsg),
                zones.mask_radius_m,
                16
            )
        ) as cover_utm
    from projected
    inner join {{ zones }} as zones
        on zones.box_max_lat >= projected.min_lat and zones.box_min_lat <= projected.max_lat
        and {{ lng_ranges_overlap('zones.box_min_lng', 'zones.box_max_lng', 'projected.min_lng', 'projected.max_lng') }}
        and {{ privacy_zone_applies('zones.athlete_id', 'projected.athlete_id') }}
    group by projected.activity_id

),

masked as (

    select
        projected.activity_id,
        projected.athlete_id,
        projected.raw_point_count,
        projected.utm_epsg,
        zone_cover.cover_utm is not null as touches_privacy_zone,
        st_multi(st_collectionextract(
            st_makevalid(
                st_simplifypreservetopology(
                    st_reduceprecision(
                        case
                            when zone_cover.cover_utm is null then projected.track_utm
                            else st_difference(projected.track_utm, zone_cover.cover_utm)
                        end,
                        {{ grid_m }}
                    ),
                    {{ simplify_m }}
                )
            ),
            2
        )) as route_utm
    from projected
    left join zone_cover on zone_cover.activity_id = projected.activity_id

),

final as (

    select
        activity_id,
        athlete_id,
        utm_epsg,
        raw_point_count,
        touches_privacy_zone,
        st_numgeometries(route_utm) as part_count,
        st_npoints(route_utm) as vertex_count,
        cast(round(cast(st_length(route_utm) / 1000.0 as numeric), 1) as double precision) as published_length_km,
        st_transform(route_utm, 4326) as route_geom
    from masked
    where not st_isempty(route_utm) and st_length(route_utm) > 0

)
{% endmacro %}

{#- For the privacy test (tests/assert_no_point_inside_privacy_zone.sql): distances computed independently of the
    masking's haversine_m. -#}

{#- Ellipsoidal (WGS84) distance in metres between two points given as lat/lng. -#}
{% macro spheroid_distance_m(lat1, lng1, lat2, lng2) -%}
    {{ return(adapter.dispatch('spheroid_distance_m', 'strava')(lat1, lng1, lat2, lng2)) }}
{%- endmacro %}

{% macro duckdb__spheroid_distance_m(lat1, lng1, lat2, lng2) -%}
    st_distance_spheroid(st_point({{ lat1 }}, {{ lng1 }}), st_point({{ lat2 }}, {{ lng2 }}))
{%- endmacro %}

{% macro postgres__spheroid_distance_m(lat1, lng1, lat2, lng2) -%}
    st_distance(cast(st_setsrid(st_makepoint({{ lng1 }}, {{ lat1 }}), 4326) as geography),
                cast(st_setsrid(st_makepoint({{ lng2 }}, {{ lat2 }}), 4326) as geography), true)
{%- endmacro %}

{#- Distance in metres, in the UTM zone `epsg`, between a WGS84 geometry (x = lng) and a point given as lat/lng. -#}
{% macro utm_distance_m(geom, lat, lng, epsg) -%}
    {{ return(adapter.dispatch('utm_distance_m', 'strava')(geom, lat, lng, epsg)) }}
{%- endmacro %}

{% macro duckdb__utm_distance_m(geom, lat, lng, epsg) -%}
    st_distance(
        st_transform({{ geom }}, 'EPSG:4326', 'EPSG:' || {{ epsg }}, always_xy := true),
        st_transform(st_point({{ lng }}, {{ lat }}), 'EPSG:4326', 'EPSG:' || {{ epsg }}, always_xy := true)
    )
{%- endmacro %}

{% macro postgres__utm_distance_m(geom, lat, lng, epsg) -%}
    st_distance(
        st_transform(st_setsrid({{ geom }}, 4326), {{ epsg }}),
        st_transform(st_setsrid(st_makepoint({{ lng }}, {{ lat }}), 4326), {{ epsg }})
    )
{%- endmacro %}

{#- A lateral join that yields every vertex of `geom` as `vertex.geom`. -#}
{% macro vertices_lateral(geom) -%}
    {{ return(adapter.dispatch('vertices_lateral', 'strava')(geom)) }}
{%- endmacro %}

{% macro duckdb__vertices_lateral(geom) -%}
    lateral (select unnest(st_dump(st_points({{ geom }})), recursive := true)) as vertex
{%- endmacro %}

{% macro postgres__vertices_lateral(geom) -%}
    lateral st_dumppoints({{ geom }}) as vertex
{%- endmacro %}
