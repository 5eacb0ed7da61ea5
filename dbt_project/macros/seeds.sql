{#- dbt's reset of an existing seed table before a load (global macro override; the same on DuckDB and PostgreSQL):
    a table whose columns are not the file's any more is made again, not just emptied. Otherwise a seed file that
    gains a column (privacy_zones.csv's athlete_id) or loses one (an old file of four columns put back) cannot be
    loaded into the table the last build left: DuckDB's COPY wants the same columns, PostgreSQL's insert names
    columns the table lacks. -#}
{% macro default__reset_csv_table(model, full_refresh, old_relation, agate_table) %}
    {%- set old_columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(old_relation) -%}
        {%- do old_columns.append(column.name | lower) -%}
    {%- endfor -%}
    {%- set new_columns = [] -%}
    {%- for name in agate_table.column_names -%}
        {%- do new_columns.append(name | lower) -%}
    {%- endfor -%}
    {{ return(dbt.default__reset_csv_table(model, full_refresh or old_columns != new_columns, old_relation,
                                           agate_table)) }}
{% endmacro %}
