-- 関係機関別の割合の推移（論文と同じ0.1%表示、年度を列に） / referral shares over time (0.1% as printed, one column per year)
pivot (
    select
        agency_group_label,
        display_order,
        fiscal_year,
        round(share_pct, 1) as share_pct
    from marts.referral_shares
)
on fiscal_year
using first(share_pct)
order by display_order;
