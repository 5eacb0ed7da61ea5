{#- Models land in the schema named in dbt_project.yml (staging, intermediate, marts, seeds), not in
    <target schema>_<name>: Evidence and Dagster read marts.weekly_summary. The raw schema belongs to the dlt
    pipeline: no model may ever be written there. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set name = (custom_schema_name or target.schema) | trim -%}
    {%- if name | lower == 'strava' -%}
        {{ exceptions.raise_compiler_error("Schema 'strava' holds the raw tables of the dlt pipeline; " ~ node.name ~ " must be written to another schema.") }}
    {%- endif -%}
    {{ name }}
{%- endmacro %}
