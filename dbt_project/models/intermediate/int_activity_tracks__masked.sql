{#- Each activity's GPS track with every privacy zone cut out, ready to publish.

    The track is the line through the latlng stream in point_index order. In the metric CRS of the activity (the
    WGS84 / UTM zone of its first point, lon/lat order forced with always_xy) the zone circles, widened by
    privacy_margin_m, are subtracted; the rest is snapped to a privacy_grid_m grid, simplified at
    privacy_simplify_m, made valid, kept as a MULTILINESTRING and transformed back to WGS84 (x = lng, y = lat).
    No GPS, a single point, or a track entirely inside the zones gives no row. -#}
{%- set grid_m = var('privacy_grid_m') -%}
{%- set simplify_m = var('privacy_simplify_m') -%}
with

points as (

    select activity_id, athlete_id, point_index, lat, lng
    from {{ ref('stg_strava__activity_streams') }}
    where lat is not null

),

zones as (

    select * from {{ ref('int_privacy_zones') }}

),

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
    from points
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

-- the zones that can touch a track: their box overlaps the track's box
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
    inner join zones
        on zones.box_max_lat >= projected.min_lat and zones.box_min_lat <= projected.max_lat
        and zones.box_max_lng >= projected.min_lng and zones.box_min_lng <= projected.max_lng
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

select * from final
