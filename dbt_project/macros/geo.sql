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

{#- Whose tracks a privacy zone masks: a zone with an athlete_id masks that athlete's, a zone without one
    everybody's. A track whose athlete is not known (null, or 0 as staging writes it) is masked by every zone, so
    an activity of unknown owner can never slip past a zone meant for it. The privacy test and the Python guard
    (strava_pipeline/maps/privacy.py) apply the same rule, written out on their own. -#}
{% macro privacy_zone_applies(zone_athlete_id, track_athlete_id) -%}
    (({{ zone_athlete_id }}) is null or coalesce({{ track_athlete_id }}, 0) = 0
     or ({{ zone_athlete_id }}) = ({{ track_athlete_id }}))
{%- endmacro %}

{#- The athlete_id of a privacy_zones seed table as a bigint; null for a seed file of the four columns before it
    (name,lat,lon,radius_m), whose zones then apply to every athlete. -#}
{% macro privacy_zone_athlete_id(relation) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do names.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if 'athlete_id' in names -%} cast(athlete_id as bigint) {%- else -%} cast(null as bigint) {%- endif -%}
{%- endmacro %}

{#- A longitude within [box_min, box_max], where the box of a zone near longitude 180 may reach past it (to -180.3
    or 180.3, say): the point is compared as it is and one turn east and west. -#}
{% macro lng_in_box(lng, box_min, box_max) -%}
    (({{ lng }}) between ({{ box_min }}) and ({{ box_max }})
     or ({{ lng }}) + 360 between ({{ box_min }}) and ({{ box_max }})
     or ({{ lng }}) - 360 between ({{ box_min }}) and ({{ box_max }}))
{%- endmacro %}

{#- Two longitude ranges that overlap, the first one (a zone's box) possibly reaching past longitude 180. -#}
{% macro lng_ranges_overlap(box_min, box_max, lng_min, lng_max) -%}
    ((({{ box_max }}) >= ({{ lng_min }}) and ({{ box_min }}) <= ({{ lng_max }}))
     or (({{ box_max }}) >= ({{ lng_min }}) + 360 and ({{ box_min }}) <= ({{ lng_max }}) + 360)
     or (({{ box_max }}) >= ({{ lng_min }}) - 360 and ({{ box_min }}) <= ({{ lng_max }}) - 360))
{%- endmacro %}

{#- true when the point of athlete `athlete_id` lies within radius_column metres of a zone of int_privacy_zones
    that applies to that athlete (privacy_zone_applies). The box test first lets DuckDB skip the trigonometry for
    points nowhere near a zone. -#}
{% macro in_privacy_zone(lat, lng, athlete_id, radius_column='mask_radius_m') -%}
    exists (
        select 1
        from {{ ref('int_privacy_zones') }} as zone
        where ({{ lat }}) between zone.box_min_lat and zone.box_max_lat
          and {{ lng_in_box(lng, 'zone.box_min_lng', 'zone.box_max_lng') }}
          and {{ privacy_zone_applies('zone.athlete_id', athlete_id) }}
          and {{ haversine_m(lat, lng, 'zone.lat', 'zone.lng') }} < zone.{{ radius_column }}
    )
{%- endmacro %}
