-- One row per closing or accepted revision × center: the version of the center that counts for the
-- decision's fiscal year from that decision on (the full set at that point). Key: (decision_id, center_code).
with source as (
    select * from raw.decision_counted_versions
),

final as (
    select
        decision_id,
        center_code,
        version
    from source
)

select * from final
