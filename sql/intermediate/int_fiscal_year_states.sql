-- One row per fiscal year the ministry has decided on: closed when its latest decision is a closing or
-- an accepted revision (not a reopening), with the latest decision (whose recorded versions count while
-- the year is closed) and the closing (publication) it stands on. A year without decisions is open.
-- Decisions are ordered by their number, never by their time. Key: fiscal_year.
with decisions as (
    select * from staging.stg_fiscal_year_decisions
),

latest_decisions as (
    select
        fiscal_year,
        max(decision_id) as latest_decision_id
    from decisions
    group by fiscal_year
),

latest_closings as (
    select
        fiscal_year,
        max(decision_id) as publication_id
    from decisions
    where action = 'close_year'
    group by fiscal_year
),

final as (
    select
        latest_decisions.fiscal_year,
        latest_decisions.latest_decision_id,
        decisions.action <> 'reopen_year' as is_closed,
        case when decisions.action <> 'reopen_year' then latest_closings.publication_id end as publication_id,
        case when decisions.action <> 'reopen_year' then closings.decided_at end as closed_at
    from latest_decisions
    inner join decisions
        on latest_decisions.latest_decision_id = decisions.decision_id
    left join latest_closings
        on latest_decisions.fiscal_year = latest_closings.fiscal_year
    left join decisions as closings
        on latest_closings.publication_id = closings.decision_id
)

select * from final
