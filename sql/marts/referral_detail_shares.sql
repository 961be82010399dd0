-- One row per fiscal year reported on the detailed form × detailed referral category (21):
-- referrals to that category and its share of the year's total, unrounded, 0–100.
-- hello_work_duplicate is the paper's first column labelled ハローワーク, counted in その他.
-- Key: (fiscal_year, agency).
with reported_items as (
    select * from intermediate.int_center_reported_items
),

referral_categories as (
    select * from staging.stg_referral_categories
),

fiscal_years as (
    select * from staging.stg_fiscal_years
),

detailed_years as (
    select distinct fiscal_year
    from reported_items
    where measure = 'referrals' and form = 'detailed'
),

category_counts as (
    select
        fiscal_year,
        category,
        sum(reported_count)::bigint as referrals
    from reported_items
    where measure = 'referrals' and form = 'detailed'
    group by fiscal_year, category
),

year_categories as (
    select
        detailed_years.fiscal_year,
        referral_categories.category,
        referral_categories.category_label,
        referral_categories.agency_group,
        referral_categories.display_order,
        coalesce(category_counts.referrals, 0) as referrals
    from detailed_years
    cross join referral_categories
    left join category_counts
        on detailed_years.fiscal_year = category_counts.fiscal_year
        and referral_categories.category = category_counts.category
    where referral_categories.form = 'detailed'
),

final as (
    select
        year_categories.fiscal_year,
        fiscal_years.fiscal_year_label,
        year_categories.category as agency,
        year_categories.category_label as agency_label,
        year_categories.agency_group,
        year_categories.referrals,
        (
            100.0 * year_categories.referrals
            / nullif(sum(year_categories.referrals) over (partition by year_categories.fiscal_year), 0)
        ) as share_pct,
        year_categories.display_order
    from year_categories
    left join fiscal_years
        on year_categories.fiscal_year = fiscal_years.fiscal_year
)

select * from final
order by fiscal_year, display_order
