-- One row per fiscal year with referrals in the counted versions: how many
-- referrals_per_center rows marts.outcome_targets has for it (must be exactly 1). Key: fiscal_year.
with national_actuals as (
    select * from intermediate.int_national_actuals
),

outcome_targets as (
    select * from marts.outcome_targets
),

referral_years as (
    select distinct fiscal_year
    from national_actuals
    where measure = 'referrals'
),

final as (
    select
        referral_years.fiscal_year,
        count(outcome_targets.fiscal_year) as target_rows
    from referral_years
    left join outcome_targets
        on referral_years.fiscal_year = outcome_targets.fiscal_year
        and outcome_targets.target = 'referrals_per_center'
    group by referral_years.fiscal_year
)

select * from final
order by fiscal_year
