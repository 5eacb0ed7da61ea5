{#- The privacy zones of seeds/privacy_zones.csv, ready for masking: whose tracks they mask (athlete_id, null =
    everybody's; a seed file without the column masks everybody's), the masking radius (radius_m plus the
    privacy_margin_m and privacy_margin_fraction vars) and a lat/lng box around it that lets a point be ruled out
    without trigonometry (a box may reach past longitude 180: lng_in_box and lng_ranges_overlap of geo.sql wrap). -#}
with

zones as (

    select
        name as zone_name,
        {{ privacy_zone_athlete_id(ref('privacy_zones')) }} as athlete_id,
        lat,
        lon as lng,
        radius_m,
        radius_m * (1 + {{ var('privacy_margin_fraction') }}) + {{ var('privacy_margin_m') }} as mask_radius_m
    from {{ ref('privacy_zones') }}

),

final as (

    select
        zone_name || coalesce('@' || cast(athlete_id as {{ dbt.type_string() }}), '') as zone_key,
        zone_name,
        athlete_id,
        lat,
        lng,
        radius_m,
        mask_radius_m,
        -- the box is a little larger than the circle (1 %): a point just outside it is certainly outside the zone
        lat - 1.01 * mask_radius_m / 111132.0 as box_min_lat,
        lat + 1.01 * mask_radius_m / 111132.0 as box_max_lat,
        lng - 1.01 * mask_radius_m / (111320.0 * greatest(cos(radians(least(abs(lat), 89.9))), 0.001)) as box_min_lng,
        lng + 1.01 * mask_radius_m / (111320.0 * greatest(cos(radians(least(abs(lat), 89.9))), 0.001)) as box_max_lng
    from zones

)

select * from final
