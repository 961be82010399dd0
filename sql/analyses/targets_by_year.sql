-- 成果目標の判定（年度別） / outcome-target verdicts by fiscal year
select
    fiscal_year,
    fiscal_year_label,
    target,
    actual,
    baseline,
    round(target_value, 1) as target_value,
    status
from marts.outcome_targets
order by fiscal_year, target;
