-- One row per referral form and the fiscal years it covers (null = open-ended). Key: form.
with source as (
    select * from reference.referral_forms
),

final as (
    select
        form,
        first_fiscal_year,
        last_fiscal_year
    from source
)

select * from final
