-- third_next_available_days of KPI_SPEC.md "Access and patient flow", per provider and
-- Monday D: calendar days from D to the start date of the third template slot that
-- starts in (D 00:00, D 00:00 + 180 days) and is free as seen on D. A slot is taken on D
-- when an appointment of the same provider, at any location, overlaps it (half-open
-- intervals, so back-to-back slots and visits do not overlap), was booked_at <= D 00:00
-- and was not cancelled at or before D 00:00. Null when fewer than three free slots lie
-- in the window. Reported for each Monday from the provider's first week with a
-- template slot up to the as-of date, for providers with a slot in the window. This KPI
-- looks ahead: slots and appointments after the as-of date count.
--
-- Scale: enumerating slots x Mondays (26 Mondays per slot) and testing each pair
-- against the appointments is the expensive way. Instead (1) each (slot, overlapping
-- appointment) pair is found once through an equi-join on the day where they first
-- overlap, giving the hold [booked_at, cancelled_at) during which the appointment takes
-- the slot; (2) the window is searched in bands of growing width: a band only looks at
-- the provider-Mondays that have not yet found three free slots, so most of the
-- 180-day window of a busy provider is never paired with its Mondays.
-- Grain: one row per provider and reported Monday (provider_id, monday).
{%- set bands = [(0, 7), (7, 28), (28, 91), (91, 180)] %}
{%- set window_days = 180 %}
with

appointments as (
    select * from {{ ref('int_appointments_localised') }}
),

slots as (
    select * from {{ ref('int_provider_slots_localised') }}
),

days as (
    select day from {{ ref('int_days') }}
),

homes as (
    select * from {{ ref('int_provider_homes') }}
),

-- int_days ends at the as-of date, so these are the reportable Mondays.
mondays as (
    select day as monday
    from days
    where cast({{ dbt.date_trunc('week', 'day') }} as date) = day
),

last_monday as (
    select max(monday) as monday from mondays
),

-- Slots that can lie in some reported Monday's window.
slots_in_reach as (
    select
        provider_id,
        location_id,
        slot_start,
        slot_end,
        slot_date,
        cast({{ dbt.date_trunc('week', 'slot_date') }} as date) as slot_week
    from slots
    where slot_start
        < {{ dbt.dateadd('day', window_days, 'cast((select monday from last_monday) as timestamp)') }}
),

-- Half-open intervals [start, end) and the days they touch: an interval ending exactly
-- at midnight does not touch the next day.
slot_spans as (
    select
        *,
        case
            when slot_end = cast(cast(slot_end as date) as timestamp)
                then {{ add_days('cast(slot_end as date)', -1) }}
            else cast(slot_end as date)
        end as last_day
    from slots_in_reach
),

appointment_spans as (
    select
        provider_id,
        scheduled_start,
        scheduled_end,
        scheduled_date,
        case
            when scheduled_end = cast(cast(scheduled_end as date) as timestamp)
                then {{ add_days('cast(scheduled_end as date)', -1) }}
            else cast(scheduled_end as date)
        end as last_day,
        booked_at,
        -- Only a cancellation frees the slot (from cancelled_at on).
        case when status = 'cancelled' then cancelled_at end as released_at
    from (
        select
            *,
            {{ dbt.dateadd('minute', 'scheduled_minutes', 'scheduled_start') }} as scheduled_end
        from appointments
    ) as timed
),

max_span as (
    select coalesce(max(span_days), 0) as span_days
    from (
        select {{ days_between('slot_date', 'last_day') }} as span_days from slot_spans
        union all
        select {{ days_between('scheduled_date', 'last_day') }} as span_days from appointment_spans
    ) as spans
),

day_offsets as (
    select {{ days_between("cast('2000-01-01' as date)", 'day') }} as day_offset
    from (
        {{ day_series("cast('2000-01-01' as date)", add_days("cast('2000-01-01' as date)", '(select span_days from max_span)')) }}
    )
),

slot_days as (
    select
        slot_spans.*,
        {{ add_days('slot_spans.slot_date', 'day_offsets.day_offset') }} as day
    from slot_spans
    inner join day_offsets
        on day_offsets.day_offset <= {{ days_between('slot_spans.slot_date', 'slot_spans.last_day') }}
),

appointment_days as (
    select
        appointment_spans.*,
        {{ add_days('appointment_spans.scheduled_date', 'day_offsets.day_offset') }} as day
    from appointment_spans
    inner join day_offsets
        on day_offsets.day_offset
            <= {{ days_between('appointment_spans.scheduled_date', 'appointment_spans.last_day') }}
),

-- One row per (slot, overlapping appointment), met on the first day both touch.
holds as (
    select
        slot_days.provider_id,
        slot_days.location_id,
        slot_days.slot_start,
        appointment_days.booked_at,
        appointment_days.released_at
    from slot_days
    inner join appointment_days
        on slot_days.provider_id = appointment_days.provider_id
            and slot_days.day = appointment_days.day
            and slot_days.slot_end > appointment_days.scheduled_start
            and slot_days.slot_start < appointment_days.scheduled_end
    where slot_days.day = case
            when slot_days.slot_date > appointment_days.scheduled_date then slot_days.slot_date
            else appointment_days.scheduled_date
        end
),

provider_first_weeks as (
    select
        provider_id,
        cast({{ dbt.date_trunc('week', 'min(slot_date)') }} as date) as first_monday
    from slots
    group by provider_id
),

-- A Monday has no slot in its window exactly when the provider's last slot starting at
-- or before D 00:00 is followed by none, or by one at or after D 00:00 + 180 days.
long_gaps as (
    select
        provider_id,
        gap_start,
        gap_end
    from (
        select
            provider_id,
            slot_start as gap_start,
            lead(slot_start) over (partition by provider_id order by slot_start) as gap_end
        from (
            select distinct
                provider_id,
                slot_start
            from slots
        ) as starts
    ) as gaps
    where gap_end is null
        or gap_end >= {{ dbt.dateadd('day', window_days, 'gap_start') }}
),

provider_mondays as (
    select
        provider_first_weeks.provider_id,
        mondays.monday
    from provider_first_weeks
    inner join mondays
        on provider_first_weeks.first_monday <= mondays.monday
    left join long_gaps
        on provider_first_weeks.provider_id = long_gaps.provider_id
            and long_gaps.gap_start <= cast(mondays.monday as timestamp)
            and (
                long_gaps.gap_end is null
                or long_gaps.gap_end
                >= {{ dbt.dateadd('day', window_days, 'cast(mondays.monday as timestamp)') }}
            )
    where long_gaps.provider_id is null
),

state_0 as (
    select
        provider_id,
        monday,
        cast(0 as bigint) as free_slots,
        cast(null as date) as third_slot_date
    from provider_mondays
),
{%- for band_start, band_end in bands %}
    {%- set k = loop.index %}

    -- Band {{ k }}: slots starting in (D + {{ band_start }} days, D + {{ band_end }} days{{ ')' if loop.last else ']' }}.
    band_{{ k }}_candidates as (
        select
            slots_in_reach.provider_id,
            slots_in_reach.location_id,
            slots_in_reach.slot_start,
            slots_in_reach.slot_date,
            {{ add_days('slots_in_reach.slot_week', '-7 * weeks_back.n') }} as monday
        from slots_in_reach
        -- a generated list of week offsets, in line rather than as a CTE of its own
        cross join (  -- noqa: ST05
            {% for n in range(band_start // 7, (band_end + 6) // 7 + 2) %}
                select {{ n }} as n{% if not loop.last %}
                    union all{% endif %}
            {%- endfor %}
        ) as weeks_back
    ),

    band_{{ k }}_free as (
        select
            band_{{ k }}_candidates.provider_id,
            band_{{ k }}_candidates.monday,
            band_{{ k }}_candidates.slot_start,
            band_{{ k }}_candidates.slot_date,
            state_{{ k - 1 }}.free_slots as free_before
        from band_{{ k }}_candidates
        inner join state_{{ k - 1 }}
            on band_{{ k }}_candidates.provider_id = state_{{ k - 1 }}.provider_id
                and band_{{ k }}_candidates.monday = state_{{ k - 1 }}.monday
        left join holds
            on band_{{ k }}_candidates.provider_id = holds.provider_id
                and band_{{ k }}_candidates.location_id = holds.location_id
                and band_{{ k }}_candidates.slot_start = holds.slot_start
                and holds.booked_at <= cast(band_{{ k }}_candidates.monday as timestamp)
                and (
                    holds.released_at is null
                    or holds.released_at > cast(band_{{ k }}_candidates.monday as timestamp)
                )
        where state_{{ k - 1 }}.free_slots < 3
            and holds.provider_id is null
            and band_{{ k }}_candidates.slot_start
            > {{ dbt.dateadd('day', band_start, 'cast(band_' ~ k ~ '_candidates.monday as timestamp)') }}
            and band_{{ k }}_candidates.slot_start
            {{ '<' if loop.last else '<=' }} {{ dbt.dateadd('day', band_end, 'cast(band_' ~ k ~ '_candidates.monday as timestamp)') }}
    ),

    band_{{ k }}_found as (
        select
            provider_id,
            monday,
            count(*) as free_slots,
            max(case when free_rank = 3 then slot_date end) as third_slot_date
        from (
            select
                *,
                free_before + row_number() over (
                    partition by provider_id, monday order by slot_start
                ) as free_rank
            from band_{{ k }}_free
        ) as ranked
        group by provider_id, monday
    ),

    state_{{ k }} as (
        select
            state_{{ k - 1 }}.provider_id,
            state_{{ k - 1 }}.monday,
            state_{{ k - 1 }}.free_slots + coalesce(band_{{ k }}_found.free_slots, 0) as free_slots,
            coalesce(state_{{ k - 1 }}.third_slot_date, band_{{ k }}_found.third_slot_date) as third_slot_date
        from state_{{ k - 1 }}
        left join band_{{ k }}_found
            on state_{{ k - 1 }}.provider_id = band_{{ k }}_found.provider_id
                and state_{{ k - 1 }}.monday = band_{{ k }}_found.monday
    ),
{%- endfor %}

final as (
    select * from state_{{ bands | length }}
)

select
    final.provider_id,
    final.monday,
    homes.home_location_id,
    case when final.free_slots >= 3 then 3 else final.free_slots end as free_slots_found,
    final.third_slot_date,
    case
        when final.third_slot_date is not null
            then {{ days_between('final.monday', 'final.third_slot_date') }}
    end as third_next_available_days
from final
left join homes
    on final.provider_id = homes.provider_id
