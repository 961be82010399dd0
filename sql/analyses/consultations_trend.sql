-- 延べ相談件数と前年度比 / consultations and change on the previous year
select
    fiscal_year,
    fiscal_year_label,
    centers_established,
    centers_reporting,
    consultations,
    round(100.0 * consultations / lag(consultations) over (order by fiscal_year) - 100, 1) as change_pct
from marts.consultation_totals
order by fiscal_year;
