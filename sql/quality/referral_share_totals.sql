-- One row per fiscal year with referrals: the sum of the year's shares in the summary-group table
-- and, for years reported in detail, in the detailed-category table. Each must be 100 (the quality
-- gate allows 1e-6 for floating point); null where the year's referral total is 0 or the year has
-- no detailed table. Key: fiscal_year.
with referral_shares as (
    select * from marts.referral_shares
),

referral_detail_shares as (
    select * from marts.referral_detail_shares
),

group_totals as (
    select
        fiscal_year,
        sum(share_pct) as group_share_total
    from referral_shares
    group by fiscal_year
    having sum(referrals) > 0
),

detail_totals as (
    select
        fiscal_year,
        sum(share_pct) as detail_share_total
    from referral_detail_shares
    group by fiscal_year
    having sum(referrals) > 0
),

final as (
    select
        coalesce(group_totals.fiscal_year, detail_totals.fiscal_year) as fiscal_year,
        group_totals.group_share_total,
        detail_totals.detail_share_total
    from group_totals
    full outer join detail_totals
        on group_totals.fiscal_year = detail_totals.fiscal_year
)

select * from final
order by fiscal_year
