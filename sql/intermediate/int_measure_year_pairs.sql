-- One row per fiscal year × measure with counted data: who reported the measure that year and the
-- year before, and the totals of the centers that reported it in both years (the like-with-like
-- comparison the supporter-activities target uses). Key: (fiscal_year, measure).
with measure_totals as (
    select * from intermediate.int_center_measure_totals
),

current_year as (
    select
        measure_totals.fiscal_year,
        measure_totals.measure,
        measure_totals.center_code,
        measure_totals.measure_total as current_total,
        previous_year.measure_total as previous_total
    from measure_totals
    left join measure_totals as previous_year
        on measure_totals.center_code = previous_year.center_code
        and measure_totals.measure = previous_year.measure
        and measure_totals.fiscal_year - 1 = previous_year.fiscal_year
),

previous_counts as (
    select
        fiscal_year + 1 as fiscal_year,
        measure,
        count(*) as centers_previous
    from measure_totals
    group by fiscal_year, measure
),

pairs as (
    select
        fiscal_year,
        measure,
        count(*) as centers_current,
        count(previous_total) as centers_in_both_years,
        sum(current_total) filter (where previous_total is not null)::bigint as compared_actual,
        sum(previous_total)::bigint as compared_baseline
    from current_year
    group by fiscal_year, measure
),

final as (
    select
        pairs.fiscal_year,
        pairs.measure,
        previous_counts.centers_previous,
        pairs.centers_current,
        pairs.centers_in_both_years,
        pairs.compared_actual,
        pairs.compared_baseline,
        case
            when previous_counts.centers_previous is not null
                then
                    pairs.centers_in_both_years = pairs.centers_current
                    and pairs.centers_in_both_years = previous_counts.centers_previous
        end as same_centers
    from pairs
    left join previous_counts
        on pairs.fiscal_year = previous_counts.fiscal_year
        and pairs.measure = previous_counts.measure
)

select * from final
