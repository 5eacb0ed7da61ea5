{#- Cross-database SQL, part 1: type names and JSON. Each macro dispatches to duckdb__ (the default warehouse) and
    postgres__ (STRAVA_WAREHOUSE=postgres); another engine (BigQuery, Snowflake: see SCALING.md) needs its own
    <adapter>__ implementation of every macro in macros/cross_db/, and dbt says which one is missing. -#}

{#- A type name as the models write it (DuckDB's: double, varchar, json, double[]) in this warehouse's spelling. -#}
{% macro strava_type(name) -%}
    {{ return(adapter.dispatch('strava_type', 'strava')(name)) }}
{%- endmacro %}

{% macro duckdb__strava_type(name) -%}
    {{ name }}
{%- endmacro %}

{% macro postgres__strava_type(name) -%}
    {%- set names = {'double': 'double precision', 'varchar': 'text', 'json': 'jsonb', 'double[]': 'double precision[]',
                     'integer': 'integer', 'bigint': 'bigint', 'boolean': 'boolean', 'timestamptz': 'timestamptz',
                     'timestamp': 'timestamp', 'date': 'date', 'hugeint': 'numeric(38, 0)'} -%}
    {{ names.get(name | lower, name) }}
{%- endmacro %}

{#- Element `index` (0-based) of a JSON array column, as a double: start_latlng [lat, lng]. -#}
{% macro json_array_double(column, index) -%}
    {{ return(adapter.dispatch('json_array_double', 'strava')(column, index)) }}
{%- endmacro %}

{% macro duckdb__json_array_double(column, index) -%}
    cast(json_extract({{ column }}, '$[{{ index }}]') as double)
{%- endmacro %}

{% macro postgres__json_array_double(column, index) -%}
    cast(({{ column }}) ->> {{ index }} as double precision)
{%- endmacro %}

{#- A top-level boolean field of a JSON object column. -#}
{% macro json_boolean(column, key) -%}
    {{ return(adapter.dispatch('json_boolean', 'strava')(column, key)) }}
{%- endmacro %}

{% macro duckdb__json_boolean(column, key) -%}
    cast(json_extract({{ column }}, '$.{{ key }}') as boolean)
{%- endmacro %}

{% macro postgres__json_boolean(column, key) -%}
    cast(({{ column }}) ->> '{{ key }}' as boolean)
{%- endmacro %}

{#- A text field of a JSON object column. -#}
{% macro json_text(column, key) -%}
    {{ return(adapter.dispatch('json_text', 'strava')(column, key)) }}
{%- endmacro %}

{% macro duckdb__json_text(column, key) -%}
    json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro postgres__json_text(column, key) -%}
    (({{ column }}) ->> '{{ key }}')
{%- endmacro %}

{#- The `field` of every object in the array `array_key` of a JSON object, as a list of doubles:
    heart_rate -> zones[*].min. -#}
{% macro json_object_array_doubles(column, array_key, field) -%}
    {{ return(adapter.dispatch('json_object_array_doubles', 'strava')(column, array_key, field)) }}
{%- endmacro %}

{% macro duckdb__json_object_array_doubles(column, array_key, field) -%}
    cast(json_extract({{ column }}, '$.{{ array_key }}[*].{{ field }}') as double[])
{%- endmacro %}

{% macro postgres__json_object_array_doubles(column, array_key, field) -%}
    (case when jsonb_typeof(({{ column }}) -> '{{ array_key }}') = 'array' then array(
        select cast(element ->> '{{ field }}' as double precision)
        from jsonb_array_elements(({{ column }}) -> '{{ array_key }}') with ordinality as elements(element, position)
        order by position
    ) end)
{%- endmacro %}

{#- Number of elements of a list / array column. -#}
{% macro list_size(column) -%}
    {{ return(adapter.dispatch('list_size', 'strava')(column)) }}
{%- endmacro %}

{% macro duckdb__list_size(column) -%}
    len({{ column }})
{%- endmacro %}

{% macro postgres__list_size(column) -%}
    cardinality({{ column }})
{%- endmacro %}
