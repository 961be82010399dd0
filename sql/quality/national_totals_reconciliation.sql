-- One row per fiscal year found in the national tables or in the counted versions: the
-- national consultations and referrals as the marts publish them, beside the sums of the submitted
-- rows (intermediate.int_submitted_totals). Each pair must be equal; a year missing on one side
-- shows as null there. Key: fiscal_year.
with consultation_totals as (
    select * from marts.consultation_totals
),

referral_shares as (
    select * from marts.referral_shares
),

submitted_totals as (
    select * from intermediate.int_submitted_totals
),

mart_referrals as (
    select
        fiscal_year,
        sum(referrals)::bigint as referrals
    from referral_shares
    group by fiscal_year
),

submitted as (
    select
        fiscal_year,
        sum(submitted_total) filter (where measure = 'consultations')::bigint as consultations,
        sum(submitted_total) filter (where measure = 'referrals')::bigint as referrals
    from submitted_totals
    group by fiscal_year
),

years as (
    select fiscal_year from consultation_totals
    union
    select fiscal_year from mart_referrals
    union
    select fiscal_year from submitted
),

final as (
    select
        years.fiscal_year,
        consultation_totals.consultations as consultations_in_marts,
        submitted.consultations as consultations_submitted,
        mart_referrals.referrals as referrals_in_marts,
        submitted.referrals as referrals_submitted
    from years
    left join consultation_totals
        on years.fiscal_year = consultation_totals.fiscal_year
    left join mart_referrals
        on years.fiscal_year = mart_referrals.fiscal_year
    left join submitted
        on years.fiscal_year = submitted.fiscal_year
)

select * from final
order by fiscal_year
