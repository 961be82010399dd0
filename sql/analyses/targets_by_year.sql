-- 成果目標の判定（年度別、暫定かどうかと報告センター数） / outcome-target verdicts by fiscal year, with coverage
select
    fiscal_year,
    fiscal_year_label,
    target,
    actual,
    baseline,
    round(target_value, 1) as target_value,
    status,
    provisional,
    centers_reporting_previous,
    centers_reporting_current,
    centers_in_both_years
from marts.outcome_targets
order by fiscal_year, target;
