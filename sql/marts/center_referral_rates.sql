-- One row per fiscal year × center with a counted version: its referrals per consultation, beside the
-- robust centre and spread of that ratio over the year's centers (median, median absolute deviation,
-- and mean absolute deviation from the median for years whose MAD is 0). The plausibility warnings
-- compare a center with the others of its year from these (a modified z-score, Iglewicz & Hoaglin);
-- centers without consultations have no ratio and are left out of the year's figures.
-- Key: (fiscal_year, center_code).
with measure_totals as (
    select * from intermediate.int_center_measure_totals
),

centers as (
    select * from staging.stg_centers
),

center_rates as (
    select
        fiscal_year,
        center_code,
        sum(measure_total) filter (where measure = 'consultations')::bigint as consultations,
        sum(measure_total) filter (where measure = 'referrals')::bigint as referrals
    from measure_totals
    group by fiscal_year, center_code
),

ratios as (
    select
        fiscal_year,
        center_code,
        consultations,
        referrals,
        referrals::double / nullif(consultations, 0) as referrals_per_consultation
    from center_rates
),

year_medians as (
    select
        fiscal_year,
        count(referrals_per_consultation) as centers_compared,
        median(referrals_per_consultation) as year_median
    from ratios
    group by fiscal_year
),

year_spreads as (
    select
        ratios.fiscal_year,
        median(abs(ratios.referrals_per_consultation - year_medians.year_median)) as year_mad,
        avg(abs(ratios.referrals_per_consultation - year_medians.year_median)) as year_mean_absolute_deviation
    from ratios
    inner join year_medians
        on ratios.fiscal_year = year_medians.fiscal_year
    group by ratios.fiscal_year
),

final as (
    select
        ratios.fiscal_year,
        ratios.center_code,
        centers.center_name,
        ratios.consultations,
        ratios.referrals,
        ratios.referrals_per_consultation,
        year_medians.centers_compared,
        year_medians.year_median,
        year_spreads.year_mad,
        year_spreads.year_mean_absolute_deviation
    from ratios
    inner join year_medians
        on ratios.fiscal_year = year_medians.fiscal_year
    inner join year_spreads
        on ratios.fiscal_year = year_spreads.fiscal_year
    left join centers
        on ratios.center_code = centers.center_code
)

select * from final
order by fiscal_year, center_code
