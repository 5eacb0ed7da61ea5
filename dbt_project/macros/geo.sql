{#- Geographic helpers shared by the privacy masking, its tests and the benchmark. -#}

{#- Great-circle distance in metres between two WGS84 points (haversine, mean Earth radius 6,371,008.8 m).
    Plain arithmetic: no axis-order question, vectorised by DuckDB. -#}
{% macro haversine_m(lat1, lng1, lat2, lng2) -%}
    (2 * 6371008.8 * asin(sqrt(
        pow(sin(radians(({{ lat2 }}) - ({{ lat1 }})) / 2), 2)
        + cos(radians({{ lat1 }})) * cos(radians({{ lat2 }}))
          * pow(sin(radians(({{ lng2 }}) - ({{ lng1 }})) / 2), 2)
    )))
{%- endmacro %}

{#- EPSG code of the WGS84 / UTM zone that holds a point: 326xx north of the equator, 327xx south. -#}
{% macro utm_epsg(lat, lng) -%}
    (case when ({{ lat }}) >= 0 then 32600 else 32700 end
     + least(60, greatest(1, cast(floor((({{ lng }}) + 180) / 6) as integer) + 1)))
{%- endmacro %}

{#- true when the point lies within radius_column metres of a zone of int_privacy_zones. The box test first
    lets DuckDB skip the trigonometry for points nowhere near a zone. -#}
{% macro in_privacy_zone(lat, lng, radius_column='mask_radius_m') -%}
    exists (
        select 1
        from {{ ref('int_privacy_zones') }} as zone
        where ({{ lat }}) between zone.box_min_lat and zone.box_max_lat
          and ({{ lng }}) between zone.box_min_lng and zone.box_max_lng
          and {{ haversine_m(lat, lng, 'zone.lat', 'zone.lng') }} < zone.{{ radius_column }}
    )
{%- endmacro %}
