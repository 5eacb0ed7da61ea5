{#- A surrogate key for a model whose grain is several columns: one column that the primary-key test
    (unique + not_null) can check. Text, readable, NULL-safe: 'athlete|sport|2025-10-13'. -#}
{% macro surrogate_key(columns) -%}
    concat_ws('|'{% for column in columns %}, coalesce(cast({{ column }} as varchar), '_null_'){% endfor %})
{%- endmacro %}
