-- One row per fiscal year × outcome target (成果目標) whose actual is known.
--   referrals_per_center: 専門機関での支援が決定した件数 must exceed
--     target_value = referrals(Y−1) / centers(Y−1) × centers(Y)   (centers from the registry)
--   supporter_activities: ひきこもりサポーターの活動件数 must exceed the previous year's, compared like
--     with like: the activities of the centers that reported them in both years (the optional item is
--     reported by a changing set of centers, and centers open every year); no_baseline when no center
--     reported them in both years.
-- status is no_baseline when the previous year has no actual. Beside each verdict: how many centers
-- reported the target's measure in each year and in both, and provisional while either year is open
-- (not closed, so its figures may still change) or the two years' reporting centers differ.
-- Key: (fiscal_year, target).
with national_actuals as (
    select * from intermediate.int_national_actuals
),

centers_by_fiscal_year as (
    select * from intermediate.int_centers_by_fiscal_year
),

measure_year_pairs as (
    select * from intermediate.int_measure_year_pairs
),

fiscal_year_states as (
    select * from intermediate.int_fiscal_year_states
),

fiscal_years as (
    select * from staging.stg_fiscal_years
),

referral_targets as (
    select
        current_year.fiscal_year,
        'referrals_per_center' as target,
        current_year.measure,
        current_year.actual,
        previous_year.actual as baseline,
        previous_centers.centers_established as centers_previous,
        current_centers.centers_established as centers_current,
        (
            previous_year.actual::double / nullif(previous_centers.centers_established, 0)
            * current_centers.centers_established
        ) as target_value,
        current_year.actual as compared_actual,
        previous_year.actual as compared_baseline,
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
        current_year.measure,
        current_year.actual,
        previous_year.actual as baseline,
        null::bigint as centers_previous,
        null::bigint as centers_current,
        previous_year.actual::double as target_value,
        pairs.compared_actual,
        pairs.compared_baseline,
        pairs.compared_actual > pairs.compared_baseline as exceeds_target
    from national_actuals as current_year
    left join national_actuals as previous_year
        on current_year.measure = previous_year.measure
        and current_year.fiscal_year - 1 = previous_year.fiscal_year
    left join measure_year_pairs as pairs
        on current_year.fiscal_year = pairs.fiscal_year
        and current_year.measure = pairs.measure
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
            when targets.exceeds_target is null then 'no_baseline'
            when targets.exceeds_target then 'pass'
            else 'fail'
        end as status,
        pairs.centers_previous as centers_reporting_previous,
        pairs.centers_current as centers_reporting_current,
        pairs.centers_in_both_years,
        targets.compared_actual,
        targets.compared_baseline,
        coalesce(current_state.is_closed, false) as current_year_closed,
        case when targets.baseline is not null then coalesce(previous_state.is_closed, false) end
            as previous_year_closed,
        (
            not coalesce(current_state.is_closed, false)
            or (targets.baseline is not null and not coalesce(previous_state.is_closed, false))
            or not coalesce(pairs.same_centers, true)
        ) as provisional
    from targets
    left join measure_year_pairs as pairs
        on targets.fiscal_year = pairs.fiscal_year
        and targets.measure = pairs.measure
    left join fiscal_year_states as current_state
        on targets.fiscal_year = current_state.fiscal_year
    left join fiscal_year_states as previous_state
        on targets.fiscal_year - 1 = previous_state.fiscal_year
    left join fiscal_years
        on targets.fiscal_year = fiscal_years.fiscal_year
)

select * from final
order by fiscal_year, target
