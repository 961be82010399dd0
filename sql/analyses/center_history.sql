-- 1センターの提出と実績の推移（例: 東京都 130001） / one center's submissions and figures over the years (e.g. Tokyo, 130001)
select
    submission_status.fiscal_year,
    submission_status.fiscal_year_label,
    submission_status.status,
    submission_status.version,
    sum(reported_items.reported_count) filter (where reported_items.measure = 'consultations') as consultations,
    sum(reported_items.reported_count) filter (where reported_items.measure = 'referrals') as referrals,
    sum(reported_items.reported_count) filter (where reported_items.measure = 'supporter_activities')
        as supporter_activities
from marts.submission_status as submission_status
left join intermediate.int_center_reported_items as reported_items
    on submission_status.center_code = reported_items.center_code
    and submission_status.fiscal_year = reported_items.fiscal_year
where submission_status.center_code = '130001'
group by all
order by submission_status.fiscal_year;
