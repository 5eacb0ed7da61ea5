{#- Fails with the combinations of `columns` that occur more than once (a grain of several columns, checked without
    building a text key per row). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
