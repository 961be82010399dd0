-- 年度ごとの提出期限、確定（公表）の状態、保留中の修正 / deadline, closing and pending revisions per fiscal year
-- (確定・修正・確定の解除の記録は ops.publications と ops.revisions / the decisions themselves: ops.publications, ops.revisions)
select
    fiscal_year,
    fiscal_year_label,
    deadline,
    deadline_source,
    is_closed,
    publication_id,
    closed_at,
    pending_revisions
from marts.fiscal_year_status
order by fiscal_year;
