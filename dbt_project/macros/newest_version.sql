{#-
  The newest version of each key in a lake source, per CONTRACTS.md: deliveries apply
  in the order they were received (delivery ids sort that way) and, within a file, a
  later line wins. For an entity delivered as full snapshots, a key missing from the
  newest snapshot is deleted: it is left out here, while the lake keeps its history.
  The newest snapshot comes from a scalar subquery, not `max(...) over ()`: a window
  over the whole table holds every row in one partition, about three times slower on
  12 M transactions (docs/benchmarks.md).

  Incremental (DuckDB, dbt_project.yml): every delivery is newer than all rows already
  staged, so only deliveries after the newest staged one are ranked, and delete+insert on
  the key lets each of their keys replace its older version. A snapshot among them
  deletes the keys it misses: forget_before_newest_snapshot (a pre-hook of every staging
  model) first drops every staged row older than the newest snapshot, which empties the
  table and makes this rank the whole source again.
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
    {%- if is_incremental() %}
        where _delivery_id > coalesce((select max(delivery_id) from {{ this }}), '')
    {%- endif %}
    ) as versions
    where _version_rank = 1
        and _delivery_id >= coalesce(
            (select max(case when _snapshot then _delivery_id end) from {{ relation }}),
            _delivery_id
        )
{%- endmacro %}

{#-
  Staged rows older than the newest snapshot delivery are either replaced by that
  snapshot or deleted by it; dropping them all before an incremental run turns the
  arrival of a snapshot into a rebuild of the model (newest_version above). No snapshot:
  the bound is null and nothing is deleted.
-#}
{% macro forget_before_newest_snapshot(relation) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
    where delivery_id < (
        select max(case when _snapshot then _delivery_id end) from {{ relation }}
    )
    {%- endif -%}
{%- endmacro %}
