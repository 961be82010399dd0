-- One row per fiscal year × outcome target (成果目標) whose actual is known.
--   referrals_per_center: 専門機関での支援が決定した件数 must exceed
--     target_value = referrals(Y−1) / centers(Y−1) × centers(Y)   (centers from the registry)
--   supporter_activities: ひきこもりサポーターの活動件数 must exceed the previous year's.
-- status is no_baseline when the previous year has no actual. Key: (fiscal_year, target).
with national_actuals as (
    select * from intermediate.int_national_actuals
),

centers_by_fiscal_year as (
    select * from intermediate.int_centers_by_fiscal_year
),

fiscal_years as (
    select * from staging.stg_fiscal_years
),

referral_targets as (
    select
        current_year.fiscal_year,
        'referrals_per_center' as target,
        current_year.actual,
        previous_year.actual as baseline,
        previous_centers.centers_established as centers_previous,
        current_centers.centers_established as centers_current,
        (
            previous_year.actual::double / nullif(previous_centers.centers_established, 0)
            * current_centers.centers_established
        ) as target_value,
        -- Compared in whole numbers (actual × centers(Y−1) > baseline × centers(Y)) so that
        -- an actual exactly on the target is never passed by floating-point rounding.
        (
            current_year.actual::hugeint * previous_centers.centers_established
            > previous_year.actual::hugeint * current_centers.centers_established
        ) as exceeds_target
    from national_actuals as current_year
    left join national_actuals as previous_year
        on current_year.measure = previous_year.measure
        and current_year.fiscal_year - 1 = previous_year.fiscal_year
    left join centers_by_fiscal_year as previous_centers
        on current_year.fiscal_year - 1 = previous_centers.fiscal_year
    left join centers_by_fiscal_year as current_centers
        on current_year.fiscal_year = current_centers.fiscal_year
    where current_year.measure = 'referrals'
),

supporter_targets as (
    select
        current_year.fiscal_year,
        'supporter_activities' as target,
        current_year.actual,
        previous_year.actual as baseline,
        null::bigint as centers_previous,
        null::bigint as centers_current,
        previous_year.actual::double as target_value,
        current_year.actual > previous_year.actual as exceeds_target
    from national_actuals as current_year
    left join national_actuals as previous_year
        on current_year.measure = previous_year.measure
        and current_year.fiscal_year - 1 = previous_year.fiscal_year
    where current_year.measure = 'supporter_activities'
),

targets as (
    select * from referral_targets
    union all
    select * from supporter_targets
),

final as (
    select
        targets.fiscal_year,
        fiscal_years.fiscal_year_label,
        targets.target,
        targets.actual,
        targets.baseline,
        targets.centers_previous,
        targets.centers_current,
        targets.target_value,
        case
            when targets.target_value is null then 'no_baseline'
            when targets.exceeds_target then 'pass'
            else 'fail'
        end as status
    from targets
    left join fiscal_years
        on targets.fiscal_year = fiscal_years.fiscal_year
)

select * from final
order by fiscal_year, target
