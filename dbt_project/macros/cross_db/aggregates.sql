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
    (array_agg({{ column }} order by {{ key }}))[1]
{%- endmacro %}
