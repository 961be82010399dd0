-- One row per fiscal year with referral data × summary agency group (9 groups): referrals
-- to that group (years reported in detail are rolled up) and its share of the year's total,
-- unrounded, 0–100. Key: (fiscal_year, agency_group).
with reported_items as (
    select * from intermediate.int_center_reported_items
),

referral_groups as (
    select * from staging.stg_referral_groups
),

fiscal_years as (
    select * from staging.stg_fiscal_years
),

referral_years as (
    select distinct fiscal_year
    from reported_items
    where measure = 'referrals'
),

group_counts as (
    select
        fiscal_year,
        agency_group,
        sum(reported_count)::bigint as referrals
    from reported_items
    where measure = 'referrals'
    group by fiscal_year, agency_group
),

year_groups as (
    select
        referral_years.fiscal_year,
        referral_groups.agency_group,
        referral_groups.agency_group_label,
        referral_groups.display_order,
        coalesce(group_counts.referrals, 0) as referrals
    from referral_years
    cross join referral_groups
    left join group_counts
        on referral_years.fiscal_year = group_counts.fiscal_year
        and referral_groups.agency_group = group_counts.agency_group
),

final as (
    select
        year_groups.fiscal_year,
        fiscal_years.fiscal_year_label,
        year_groups.agency_group,
        year_groups.agency_group_label,
        year_groups.referrals,
        (
            100.0 * year_groups.referrals
            / nullif(sum(year_groups.referrals) over (partition by year_groups.fiscal_year), 0)
        ) as share_pct,
        year_groups.display_order
    from year_groups
    left join fiscal_years
        on year_groups.fiscal_year = fiscal_years.fiscal_year
)

select * from final
order by fiscal_year, display_order
