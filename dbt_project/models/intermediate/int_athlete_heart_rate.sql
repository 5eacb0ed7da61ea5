{#- The heart-rate parameters of each athlete for TRIMP: max and resting heart rate and Banister's sex-specific
    coefficients. Max HR: the hr_max_bpm var if set, else the lower bound of the athlete's top Strava heart-rate
    zone / 0.9 (Strava's default zones start zone 5 at 90 % of max: the recorded athlete's 166 bpm -> 184), else
    default_hr_max_bpm (190). Resting HR: the hr_rest_bpm var (60): Strava does not know it. -#}
with

athletes as (

    select distinct athlete_id from {{ ref('stg_strava__activities') }}

),

profiles as (

    select athlete_id, sex from {{ ref('stg_strava__athlete') }}

),

zones as (

    select
        athlete_id,
        heartrate_zone_mins_bpm[{{ list_size('heartrate_zone_mins_bpm') }}] as top_zone_min_bpm
    from {{ ref('stg_strava__athlete_zones') }}
    where {{ list_size('heartrate_zone_mins_bpm') }} >= 2

),

final as (

    select
        athletes.athlete_id,
        {%- if var('hr_max_bpm', none) %}
        cast({{ var('hr_max_bpm') }} as {{ strava_type('double') }}) as hr_max_bpm,
        'var hr_max_bpm' as hr_max_source,
        {%- else %}
        coalesce(round(zones.top_zone_min_bpm / 0.9), {{ var('default_hr_max_bpm') }}) as hr_max_bpm,
        case when zones.top_zone_min_bpm is not null then 'athlete_zones' else 'default' end as hr_max_source,
        {%- endif %}
        cast({{ var('hr_rest_bpm') }} as {{ strava_type('double') }}) as hr_rest_bpm,
        profiles.sex,
        cast(case when profiles.sex = 'F' then 0.86 else 0.64 end as {{ strava_type('double') }}) as trimp_a,
        cast(case when profiles.sex = 'F' then 1.67 else 1.92 end as {{ strava_type('double') }}) as trimp_b
    from athletes
    left join profiles on profiles.athlete_id = athletes.athlete_id
    left join zones on zones.athlete_id = athletes.athlete_id

)

select * from final
