-- One row per 自治体 that runs a ひきこもり地域支援センター (the center registry).
-- Key: center_code.
with source as (
    select * from reference.centers
),

final as (
    select
        center_code,
        center_name,
        kind as center_kind,
        opened_fiscal_year,
        sites
    from source
)

select * from final
