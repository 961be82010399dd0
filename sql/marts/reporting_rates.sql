-- One row per fiscal year with accepted data: how many centers were expected, how many have a version
-- that counts, how many submitted their first accepted version on time, and the two rates (of the
-- expected centers), with the year's deadline and whether it is closed. Key: fiscal_year.
with submission_status as (
    select * from marts.submission_status
),

fiscal_year_status as (
    select * from marts.fiscal_year_status
),

counts as (
    select
        fiscal_year,
        any_value(fiscal_year_label) as fiscal_year_label,
        count(*) as centers_expected,
        count(*) filter (where status = 'accepted') as centers_accepted,
        count(*) filter (where on_time) as centers_on_time
    from submission_status
    group by fiscal_year
),

final as (
    select
        counts.fiscal_year,
        counts.fiscal_year_label,
        counts.centers_expected,
        counts.centers_accepted,
        counts.centers_on_time,
        100.0 * counts.centers_accepted / counts.centers_expected as reporting_rate_pct,
        100.0 * counts.centers_on_time / counts.centers_expected as timeliness_pct,
        fiscal_year_status.deadline,
        fiscal_year_status.is_closed
    from counts
    left join fiscal_year_status
        on counts.fiscal_year = fiscal_year_status.fiscal_year
)

select * from final
order by fiscal_year
