-- One row per fiscal year × center with an accepted submission × published figure: the figures
-- of the per-center publication tables before small counts are hidden. Figures: consultations,
-- supporter activities (in years where any center reported them; 0 for a center that did not),
-- referrals to each of the 9 summary groups (0 where none) and the center's referral total.
-- Key: (fiscal_year, center_code, measure, category); category is 'total' or an agency group.
with reported_items as (
    select * from intermediate.int_center_reported_items
),

centers as (
    select * from staging.stg_centers
),

referral_groups as (
    select * from staging.stg_referral_groups
),

fiscal_years as (
    select * from staging.stg_fiscal_years
),

reporting_centers as (
    select distinct
        fiscal_year,
        center_code
    from reported_items
),

supporter_years as (
    select distinct fiscal_year
    from reported_items
    where measure = 'supporter_activities'
),

figures as (
    select
        reporting_centers.fiscal_year,
        reporting_centers.center_code,
        'consultations' as measure,
        'total' as category,
        1 as display_order
    from reporting_centers
    union all
    select
        reporting_centers.fiscal_year,
        reporting_centers.center_code,
        'supporter_activities' as measure,
        'total' as category,
        2 as display_order
    from reporting_centers
    inner join supporter_years
        on reporting_centers.fiscal_year = supporter_years.fiscal_year
    union all
    select
        reporting_centers.fiscal_year,
        reporting_centers.center_code,
        'referrals' as measure,
        referral_groups.agency_group as category,
        10 + referral_groups.display_order as display_order
    from reporting_centers
    cross join referral_groups
    union all
    select
        reporting_centers.fiscal_year,
        reporting_centers.center_code,
        'referrals' as measure,
        'total' as category,
        100 as display_order
    from reporting_centers
),

item_counts as (
    select
        fiscal_year,
        center_code,
        measure,
        coalesce(agency_group, category) as category,
        sum(reported_count)::bigint as reported_count
    from reported_items
    group by all
),

referral_totals as (
    select
        fiscal_year,
        center_code,
        'referrals' as measure,
        'total' as category,
        sum(reported_count)::bigint as reported_count
    from reported_items
    where measure = 'referrals'
    group by all
),

counts as (
    select * from item_counts
    union all
    select * from referral_totals
),

final as (
    select
        figures.fiscal_year,
        fiscal_years.fiscal_year_label,
        figures.center_code,
        centers.center_name,
        figures.measure,
        figures.category,
        referral_groups.agency_group_label,
        figures.display_order,
        coalesce(counts.reported_count, 0) as reported_count
    from figures
    left join counts
        on figures.fiscal_year = counts.fiscal_year
        and figures.center_code = counts.center_code
        and figures.measure = counts.measure
        and figures.category = counts.category
    left join centers
        on figures.center_code = centers.center_code
    left join referral_groups
        on figures.measure = 'referrals'
        and figures.category = referral_groups.agency_group
    left join fiscal_years
        on figures.fiscal_year = fiscal_years.fiscal_year
)

select * from final
order by fiscal_year, center_code, display_order
