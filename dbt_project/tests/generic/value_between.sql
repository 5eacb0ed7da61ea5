{#- Fails with the rows whose value lies outside [min_value, max_value] (or is NULL, which is no value at all).
    exclusive_min: the value must be strictly greater than min_value (a radius of 0 m masks nothing). -#}
{% test value_between(model, column_name, min_value, max_value, exclusive_min=false) %}
select *
from {{ model }}
where {{ column_name }} is null
   or {{ column_name }} {{ '<=' if exclusive_min else '<' }} {{ min_value }}
   or {{ column_name }} > {{ max_value }}
{% endtest %}
