{#- select <columns> from the raw table source('strava', table_name), each cast to its type.

    The dlt pipeline creates a raw table only when it loads into it (an archive import has activities and
    activity_streams only; --no-detail has no activity_details) and a column only when it has data or a type hint.
    So a missing column becomes a typed NULL, and a missing table an empty, typed relation: the staging model, and
    everything downstream, still builds. required=true turns a missing table into a clear error instead.

    columns: {name: duckdb type}, in output order (strava_type spells it for the warehouse). -#}
{% macro strava_source(table_name, columns, required=false) %}
    {%- set relation = source('strava', table_name) -%}
    {%- set present = [] -%}
    {%- set found = none -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(database=relation.database, schema=relation.schema,
                                             identifier=relation.identifier) -%}
        {%- if found is none and required -%}
            {{ exceptions.raise_compiler_error("The raw table " ~ relation ~ " does not exist in " ~ target.path
               ~ ": load the warehouse first with `uv run strava.py` (or `uv run strava.py --demo`), "
               ~ "or point STRAVA_DATA_DIR at the data folder that holds it.") }}
        {%- endif -%}
        {%- if found is not none -%}
            {%- for column in adapter.get_columns_in_relation(found) -%}
                {%- do present.append(column.name | lower) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif %}
    select
    {%- for name, type in columns.items() %}
        {% if name in present -%}
        cast({{ adapter.quote(name) }} as {{ strava_type(type) }})
        {%- else -%}
        cast(null as {{ strava_type(type) }})
        {%- endif %} as {{ adapter.quote(name) }}{{ "," if not loop.last }}
    {%- endfor %}
    {% if found is not none -%}
    from {{ relation }}
    {%- else -%}
    -- {{ relation }} is not in this warehouse
    from (select 1) as missing_table where false
    {%- endif %}
{% endmacro %}
