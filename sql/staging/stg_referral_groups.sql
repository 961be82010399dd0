-- One row per summary agency group, in the paper's column order. Key: agency_group.
with source as (
    select * from reference.referral_groups
),

final as (
    select
        agency_group,
        label_ja as agency_group_label,
        label_en as agency_group_label_en,
        display_order
    from source
)

select * from final
