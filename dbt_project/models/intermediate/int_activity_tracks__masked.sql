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

{{ masked_track_ctes('points', 'zones', grid_m, simplify_m) }}

select * from final
