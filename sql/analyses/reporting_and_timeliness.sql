-- 報告率と期限内提出率（年度別） / reporting rate and timeliness by fiscal year
select
    fiscal_year,
    fiscal_year_label,
    deadline,
    is_closed,
    centers_expected,
    centers_accepted,
    centers_on_time,
    round(reporting_rate_pct, 1) as reporting_rate_pct,
    round(timeliness_pct, 1) as timeliness_pct
from marts.reporting_rates
order by fiscal_year;
