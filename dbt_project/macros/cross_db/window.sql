{#- Cross-database SQL, part 4: the exponentially weighted moving average of training_load (see types.sql for how
    the dispatch works, macros/training_load.sql for the DuckDB implementation and the formula).

    `relation` is the CTE the select reads (one row per `partition_by` and day of `order_by`, no gaps): engines
    without list_reduce sum the weighted last 365 days of it instead, which is the same number written out:
    ewma_t = sum over k = 0..364 of value_(t-k) * (1 - 1/days)^k / days. -#}
{% macro ewma(value, days, partition_by, order_by, relation) -%}
    {{ return(adapter.dispatch('ewma', 'strava')(value, days, partition_by, order_by, relation)) }}
{%- endmacro %}

{% macro postgres__ewma(value, days, partition_by, order_by, relation) -%}
    (select sum(cast(earlier.{{ value }} as double precision)
                * power(1 - 1.0 / {{ days }}, {{ relation }}.{{ order_by }} - earlier.{{ order_by }})) / {{ days }}
     from {{ relation }} as earlier
     where earlier.{{ partition_by }} = {{ relation }}.{{ partition_by }}
       and earlier.{{ order_by }} between {{ relation }}.{{ order_by }} - 364 and {{ relation }}.{{ order_by }})
{%- endmacro %}
