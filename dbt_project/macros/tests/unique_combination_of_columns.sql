{#-
  Generic test: no two rows share the same values of `combination_of_columns` (the
  composite key of a model). dbt_utils has one, but `dbt deps` cannot reach the package
  hub here (STACK_NOTES.md), so the project keeps its own.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
