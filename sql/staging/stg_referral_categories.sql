-- One row per referral category of a referral form (9 summary groups up to FY2015,
-- 21 detailed categories from FY2016), with the summary group it rolls up into.
-- Key: (form, category).
with source as (
    select * from reference.referral_categories
),

final as (
    select
        form,
        category,
        label_ja as category_label,
        published_label as category_published_label,
        label_en as category_label_en,
        agency_group,
        display_order
    from source
)

select * from final
