{#-
  The newest version of each key in a lake source, per CONTRACTS.md: deliveries apply
  in the order they were received (delivery ids sort that way) and, within a file, a
  later line wins. For an entity delivered as full snapshots, a key missing from the
  newest snapshot is deleted: it is left out here, while the lake keeps its history.
  The newest snapshot comes from a scalar subquery, not `max(...) over ()`: a window
  over the whole table holds every row in one partition, about three times slower on
  12 M transactions (docs/benchmarks.md).
-#}
{% macro newest_version(relation, key_columns) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _delivery_id desc, _line desc
            ) as _version_rank
        from {{ relation }}
    ) as versions
    where _version_rank = 1
        and _delivery_id >= coalesce(
            (select max(case when _snapshot then _delivery_id end) from {{ relation }}),
            _delivery_id
        )
{%- endmacro %}
