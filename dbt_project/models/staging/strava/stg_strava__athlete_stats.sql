{#- Strava's own totals: recent (last 4 weeks), ytd and all-time x run, ride, swim, flattened by dlt as
    <period>_<sport>_totals__<field>. -#}
{%- set periods = ['recent', 'ytd', 'all'] -%}
{%- set sports = ['run', 'ride', 'swim'] -%}
{%- set columns = {'athlete_id': 'bigint', 'fetched_at': 'timestamptz'} -%}
{%- for period in periods -%}
    {%- for sport in sports -%}
        {%- for field in ['count', 'distance', 'moving_time', 'elapsed_time', 'elevation_gain'] -%}
            {%- do columns.update({period ~ '_' ~ sport ~ '_totals__' ~ field: 'double'}) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endfor -%}

with

source as (

    {{ strava_source('athlete_stats', columns) }}

),

renamed as (

    select
        athlete_id,
        {%- for period in periods %}
        {%- for sport in sports %}
        {%- set raw = period ~ '_' ~ sport ~ '_totals__' %}
        {%- set out = period ~ '_' ~ sport ~ '_' %}
        cast({{ raw }}count as bigint) as {{ out }}count,
        {{ raw }}distance / 1000.0 as {{ out }}distance_km,
        cast({{ raw }}moving_time as bigint) as {{ out }}moving_time_s,
        cast({{ raw }}elapsed_time as bigint) as {{ out }}elapsed_time_s,
        {{ raw }}elevation_gain as {{ out }}elevation_gain_m,
        {%- endfor %}
        {%- endfor %}
        timezone('UTC', fetched_at) as fetched_at_utc
    from source

)

select * from renamed
