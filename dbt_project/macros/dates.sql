{#- The day the marts count up to: var as_of_date (YYYY-MM-DD) or today in UTC. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        cast(timezone('UTC', current_timestamp) as date)
    {%- endif -%}
{%- endmacro %}
