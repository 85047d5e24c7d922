{#-
  Money from the lake is a double. Billing sums run over millions of rows and A/R is a
  running total, so amounts are summed as decimals: a balance that is 0 stays exactly 0
  (a ratio over it is then null, KPI_SPEC.md) instead of 1e-12 with a huge ratio.
-#}
{% macro billing_money(expression) -%}
    cast({{ expression }} as decimal(18, 4))
{%- endmacro %}

{#-
  How a transaction moves the claim's A/R (KPI_SPEC.md ar_balance): payments,
  contractual adjustments and write-offs lower it, refunds raise it, a denial never
  moves it (CONTRACTS.md: a denial's amount is ignored).
-#}
{% macro billing_ar_movement(transaction_type, amount) -%}
    case
        when {{ transaction_type }} = 'refund' then {{ billing_money(amount) }}
        when {{ transaction_type }} in ('payer_payment', 'patient_payment', 'contractual_adjustment', 'write_off')
            then -{{ billing_money(amount) }}
        else {{ billing_money(0) }}
    end
{%- endmacro %}

{#- Money received, net of refunds (KPI_SPEC.md payments and net_collection_rate). -#}
{% macro billing_payment(transaction_type, amount) -%}
    case
        when {{ transaction_type }} in ('payer_payment', 'patient_payment') then {{ billing_money(amount) }}
        when {{ transaction_type }} = 'refund' then -{{ billing_money(amount) }}
        else {{ billing_money(0) }}
    end
{%- endmacro %}

{#- Codes are compared after trimming and upper-casing (CONTRACTS.md); an empty code is ''. -#}
{% macro billing_code(expression) -%}
    coalesce(upper(trim({{ expression }})), '')
{%- endmacro %}
