-- 未提出・差戻しのセンター / centers whose submission is missing or rejected
select
    fiscal_year,
    fiscal_year_label,
    center_code,
    center_name,
    status
from marts.submission_status
where status <> 'accepted'
order by fiscal_year, center_code;
