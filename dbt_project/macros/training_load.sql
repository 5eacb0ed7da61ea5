{#- Banister's TRIMP per minute at a heart-rate reserve fraction hrr (0..1): hrr * a * e^(b * hrr), with
    a = 0.64, b = 1.92 for men and a = 0.86, b = 1.67 for women (Banister 1991). -#}
{% macro trimp_per_minute(hrr, a, b) -%}
    (({{ hrr }}) * ({{ a }}) * exp(({{ b }}) * ({{ hrr }})))
{%- endmacro %}

{#- Heart-rate reserve fraction, clamped to 0..1: (hr - rest) / (max - rest). -#}
{% macro heart_rate_reserve(hr, hr_rest, hr_max) -%}
    least(1.0, greatest(0.0, (({{ hr }}) - ({{ hr_rest }})) / nullif(({{ hr_max }}) - ({{ hr_rest }}), 0)))
{%- endmacro %}

{#- Exponentially weighted moving average of `value` over the rows of the window `over`, time constant `days`
    (CTL: 42, ATL: 7): ewma_t = ewma_t-1 + (value_t - ewma_t-1) / days, starting from 0 a year back. Older days
    weigh less than (1 - 1/42)^365 = 0.02 % and are left out, which keeps the window bounded. -#}
{#- DuckDB: one list_reduce over the window (the dispatcher, ewma, and other engines: macros/cross_db/window.sql). -#}
{% macro duckdb__ewma(value, days, partition_by, order_by, relation) -%}
    list_reduce(
        list_prepend(0.0, list(cast({{ value }} as double)) over (
            partition by {{ partition_by }} order by {{ order_by }} rows between 364 preceding and current row
        )),
        lambda acc, x: acc + (x - acc) / {{ days }}
    )
{%- endmacro %}
