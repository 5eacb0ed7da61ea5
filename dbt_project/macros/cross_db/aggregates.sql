{#- Cross-database SQL, part 3: aggregates DuckDB has and PostgreSQL spells otherwise (see types.sql). -#}

{#- Any value of the group (all rows of the group hold the same one). -#}
{% macro any_value_of(column) -%}
    {{ return(adapter.dispatch('any_value_of', 'strava')(column)) }}
{%- endmacro %}

{% macro duckdb__any_value_of(column) -%}
    any_value({{ column }})
{%- endmacro %}

{% macro postgres__any_value_of(column) -%}
    min({{ column }})
{%- endmacro %}

{#- The value of `column` on the row with the smallest `key` of the group. -#}
{% macro value_at_min(column, key) -%}
    {{ return(adapter.dispatch('value_at_min', 'strava')(column, key)) }}
{%- endmacro %}

{% macro duckdb__value_at_min(column, key) -%}
    arg_min({{ column }}, {{ key }})
{%- endmacro %}

{% macro postgres__value_at_min(column, key) -%}
    -- like DuckDB's arg_min: rows with a NULL value or key do not count
    ((array_agg({{ column }} order by {{ key }}) filter (where ({{ column }}) is not null and ({{ key }}) is not null))[1])
{%- endmacro %}

{#- The value of `column` on the row with the largest `key` of the group. -#}
{% macro value_at_max(column, key) -%}
    {{ return(adapter.dispatch('value_at_max', 'strava')(column, key)) }}
{%- endmacro %}

{% macro duckdb__value_at_max(column, key) -%}
    arg_max({{ column }}, {{ key }})
{%- endmacro %}

{% macro postgres__value_at_max(column, key) -%}
    -- like DuckDB's arg_max: rows with a NULL value or key do not count
    ((array_agg({{ column }} order by {{ key }} desc) filter (where ({{ column }}) is not null and ({{ key }}) is not null))[1])
{%- endmacro %}

{#- The most frequent value of the group. -#}
{% macro most_frequent(column) -%}
    {{ return(adapter.dispatch('most_frequent', 'strava')(column)) }}
{%- endmacro %}

{% macro duckdb__most_frequent(column) -%}
    mode({{ column }})
{%- endmacro %}

{% macro postgres__most_frequent(column) -%}
    mode() within group (order by {{ column }})
{%- endmacro %}
