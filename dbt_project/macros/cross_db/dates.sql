{#- Cross-database SQL, part 2: dates and times (see types.sql for how the dispatch works). -#}

{#- Strava's local wall-clock text ('2025-06-01T07:03:12Z', Z misleading) as a timestamp without time zone;
    NULL when it is not one. -#}
{% macro local_timestamp(text) -%}
    {{ return(adapter.dispatch('local_timestamp', 'strava')(text)) }}
{%- endmacro %}

{% macro duckdb__local_timestamp(text) -%}
    try_strptime(left({{ text }}, 19), ['%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S'])
{%- endmacro %}

{% macro postgres__local_timestamp(text) -%}
    (case when ({{ text }}) ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}'
        then to_timestamp(replace(left({{ text }}, 19), 'T', ' '), 'YYYY-MM-DD HH24:MI:SS')::timestamp end)
{%- endmacro %}

{#- An interval of `seconds` seconds (a double). -#}
{% macro seconds_interval(seconds) -%}
    {{ return(adapter.dispatch('seconds_interval', 'strava')(seconds)) }}
{%- endmacro %}

{% macro duckdb__seconds_interval(seconds) -%}
    to_seconds({{ seconds }})
{%- endmacro %}

{% macro postgres__seconds_interval(seconds) -%}
    make_interval(secs => {{ seconds }})
{%- endmacro %}

{#- Seconds since 1970-01-01 UTC of a timestamp with time zone, as a double. -#}
{% macro epoch_s(ts) -%}
    {{ return(adapter.dispatch('epoch_s', 'strava')(ts)) }}
{%- endmacro %}

{% macro duckdb__epoch_s(ts) -%}
    epoch({{ ts }})
{%- endmacro %}

{% macro postgres__epoch_s(ts) -%}
    extract(epoch from {{ ts }})
{%- endmacro %}

{#- 'MM-DD' of a date: compares the day of the year across years without leap-day shifts. -#}
{% macro month_day(d) -%}
    {{ return(adapter.dispatch('month_day', 'strava')(d)) }}
{%- endmacro %}

{% macro duckdb__month_day(d) -%}
    strftime({{ d }}, '%m-%d')
{%- endmacro %}

{% macro postgres__month_day(d) -%}
    to_char({{ d }}, 'MM-DD')
{%- endmacro %}

{#- A select-list expression that expands one row into one row per date from `first` to `last` (dates or
    timestamps) in steps of one `period` (day, week, month), as dates. -#}
{% macro date_series(first, last, period) -%}
    {{ return(adapter.dispatch('date_series', 'strava')(first, last, period)) }}
{%- endmacro %}

{% macro duckdb__date_series(first, last, period) -%}
    cast(unnest(generate_series(cast({{ first }} as timestamp), cast({{ last }} as timestamp), interval 1 {{ period }})) as date)
{%- endmacro %}

{% macro postgres__date_series(first, last, period) -%}
    cast(generate_series(cast({{ first }} as timestamp), cast({{ last }} as timestamp), interval '1 {{ period }}') as date)
{%- endmacro %}

{#- A select-list expression that expands one row into one row per integer from `first` to `last` inclusive. -#}
{% macro integer_series(first, last) -%}
    {{ return(adapter.dispatch('integer_series', 'strava')(first, last)) }}
{%- endmacro %}

{% macro duckdb__integer_series(first, last) -%}
    unnest(range({{ first }}, ({{ last }}) + 1))
{%- endmacro %}

{% macro postgres__integer_series(first, last) -%}
    generate_series({{ first }}, {{ last }})
{%- endmacro %}

{#- The calendar year of a date as an integer. -#}
{% macro year_of(d) -%}
    cast(extract(year from {{ d }}) as integer)
{%- endmacro %}

{#- The English abbreviation of a date's weekday: Mon .. Sun. -#}
{% macro weekday_abbrev(d) -%}
    {{ return(adapter.dispatch('weekday_abbrev', 'strava')(d)) }}
{%- endmacro %}

{% macro duckdb__weekday_abbrev(d) -%}
    strftime({{ d }}, '%a')
{%- endmacro %}

{% macro postgres__weekday_abbrev(d) -%}
    to_char({{ d }}, 'Dy')
{%- endmacro %}

{#- The English name of a date's (or timestamp's) weekday: Monday .. Sunday. -#}
{% macro weekday_name(d) -%}
    {{ return(adapter.dispatch('weekday_name', 'strava')(d)) }}
{%- endmacro %}

{% macro duckdb__weekday_name(d) -%}
    strftime({{ d }}, '%A')
{%- endmacro %}

{% macro postgres__weekday_name(d) -%}
    trim(to_char({{ d }}, 'Day'))
{%- endmacro %}
