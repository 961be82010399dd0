-- One row per fiscal year of the paper's 年度別設置自治体数 table (as published, for comparison
-- only). Key: fiscal_year.
with source as (
    select * from reference.published_establishment
),

final as (
    select
        fiscal_year,
        published_new,
        published_cumulative
    from source
)

select * from final
