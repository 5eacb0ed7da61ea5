{#- Every athlete's heart-rate, power and pace zones with absolute bounds: Strava's own zones (athlete_zones of the
    API) for heart rate and power when loaded, else the seed athlete_zones (% of max HR, FTP, threshold speed). -#}
with

athletes as (

    select athlete_id, hr_max_bpm from {{ ref('int_athlete_heart_rate') }}

),

defaults as (

    select * from {{ ref('athlete_zones') }}

),

strava_zones as (

    select athlete_id, 'heartrate' as zone_type, heartrate_zones_json as zones_json
    from {{ ref('stg_strava__athlete_zones') }}
    union all
    select athlete_id, 'power', power_zones_json
    from {{ ref('stg_strava__athlete_zones') }}

),

-- Strava's zones as {min, max} pairs, zone 1 first; the top zone's max is -1
strava_bounds as (

    select athlete_id, zone_type, zone, zone_mins[zone] as lower_bound
    from (
        select
            athlete_id,
            zone_type,
            zone_mins,
            cast({{ integer_series(1, list_size('zone_mins')) }} as integer) as zone
        from (
            select athlete_id, zone_type, {{ json_object_array_doubles('zones_json', 'zones', 'min') }} as zone_mins
            from strava_zones
        ) as listed
        where {{ list_size('zone_mins') }} >= 2
    ) as numbered

),

latest_ftp as (

    select athlete_id, {{ value_at_max('estimated_ftp_w', 'month_start') }} as estimated_ftp_w
    from {{ ref('ftp_history') }}
    where estimated_ftp_w is not null
    group by athlete_id

),

threshold as (

    select athlete_id, min(pace_s_per_km) as threshold_pace_s_per_km
    from {{ ref('activity_pace_curve') }}
    where curve_kind = 'duration' and duration_s = 3600 and {{ is_run('sport_type') }}
      and start_date_local > {{ as_of_date() }} - 365
    group by athlete_id

),

reference_values as (

    select
        athletes.athlete_id,
        athletes.hr_max_bpm,
        {%- if var('ftp_w', none) %}
        cast({{ var('ftp_w') }} as {{ strava_type('double') }}) as ftp_w,
        {%- else %}
        coalesce(latest_ftp.estimated_ftp_w, {{ var('default_ftp_w') }}) as ftp_w,
        {%- endif %}
        {%- if var('threshold_pace_s_per_km', none) %}
        cast({{ var('threshold_pace_s_per_km') }} as {{ strava_type('double') }}) as threshold_pace_s_per_km
        {%- else %}
        coalesce(threshold.threshold_pace_s_per_km, {{ var('default_threshold_pace_s_per_km') }})
            as threshold_pace_s_per_km
        {%- endif %}
    from athletes
    left join latest_ftp on latest_ftp.athlete_id = athletes.athlete_id
    left join threshold on threshold.athlete_id = athletes.athlete_id

),

from_defaults as (

    select
        refs.athlete_id,
        defaults.zone_type,
        defaults.zone,
        defaults.zone_name,
        -- heart rate in bpm, power in W, pace zones as speed in m/s
        case defaults.zone_type
            when 'heartrate' then refs.hr_max_bpm
            when 'power' then refs.ftp_w
            else 1000.0 / refs.threshold_pace_s_per_km
        end * defaults.lower_pct / 100.0 as lower_bound,
        case defaults.zone_type
            when 'heartrate' then refs.hr_max_bpm
            when 'power' then refs.ftp_w
            else 1000.0 / refs.threshold_pace_s_per_km
        end * defaults.upper_pct / 100.0 as upper_bound,
        'default' as zone_source
    from reference_values as refs
    cross join defaults

),

from_strava as (

    select
        bounds.athlete_id,
        bounds.zone_type,
        bounds.zone,
        coalesce(defaults.zone_name, 'Zone ' || bounds.zone) as zone_name,
        bounds.lower_bound,
        lead(bounds.lower_bound) over (
            partition by bounds.athlete_id, bounds.zone_type order by bounds.zone
        ) as upper_bound,
        'strava' as zone_source
    from (
        select *, count(*) over (partition by athlete_id, zone_type) as zone_count from strava_bounds
    ) as bounds
    -- the seed's names fit when Strava has as many zones as the seed
    left join (
        select *, count(*) over (partition by zone_type) as zone_count from defaults
    ) as defaults
        on defaults.zone_type = bounds.zone_type
        and defaults.zone = bounds.zone
        and defaults.zone_count = bounds.zone_count

),

final as (

    select
        {{ surrogate_key(['athlete_id', 'zone_type', 'zone']) }} as athlete_zone_id,
        athlete_id, zone_type, zone, zone_name, lower_bound, upper_bound, zone_source
    from from_strava
    union all
    select
        {{ surrogate_key(['athlete_id', 'zone_type', 'zone']) }} as athlete_zone_id,
        athlete_id, zone_type, zone, zone_name, lower_bound, upper_bound, zone_source
    from from_defaults
    where not exists (
        select 1 from from_strava
        where from_strava.athlete_id = from_defaults.athlete_id and from_strava.zone_type = from_defaults.zone_type
    )

)

select * from final
