{#-
  dbt-spark's session mode formats seed bindings into the SQL text without quoting them,
  so a value with an apostrophe ("payer's") breaks the insert. Seeds on Spark therefore
  inline every value as an escaped string literal cast to the column's type. Found by
  dispatch before the adapter's own version, because root-project macros come first.
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
{%- set column_override = model['config'].get('column_types', {}) -%}
{%- set statements = [] -%}
{%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
{%- set sql -%}
insert into {{ this.render() }} values
{%- for row in chunk %}
            (
{%- for value in row -%}
                    {%- set column_type = column_override.get(
                        agate_table.column_names[loop.index0],
                        adapter.convert_type(agate_table, loop.index0)
                    ) -%}
{%- if value is none -%}
                        cast(null as {{ column_type }})
                    {%- else -%}
cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ column_type }})
{%- endif -%}
{%- if not loop.last %}, {% endif -%}
{%- endfor -%}
){%- if not loop.last %},{% endif -%}
            {%- endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
{{ return(statements[0]) }}
{% endmacro %}
