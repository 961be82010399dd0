-- One row per closing of a fiscal year (CONTRACT.md §5): `hikikomori close-year`. A year closed,
-- reopened and closed again has two. Key: publication_id.
with decisions as (
    select * from staging.stg_fiscal_year_decisions
),

final as (
    select
        decision_id as publication_id,
        fiscal_year,
        decided_at as closed_at,
        note
    from decisions
    where action = 'close_year'
)

select * from final
