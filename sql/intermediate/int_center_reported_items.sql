-- One row per center, fiscal year and reported item of the version that counts (int_counted_submissions), with the
-- referral form of the year and, for referrals, the summary group the category rolls up into.
-- Optional referral "total" rows are left out: totals are always recomputed from the items.
-- Key: (center_code, fiscal_year, measure, category).
with counted_submissions as (
    select * from intermediate.int_counted_submissions
),

submission_rows as (
    select * from staging.stg_submission_rows
),

referral_forms as (
    select * from staging.stg_referral_forms
),

referral_categories as (
    select * from staging.stg_referral_categories
),

items as (
    select
        counted_submissions.center_code,
        counted_submissions.fiscal_year,
        submission_rows.measure,
        submission_rows.category,
        submission_rows.reported_count
    from counted_submissions
    inner join submission_rows
        on counted_submissions.receipt_id = submission_rows.receipt_id
    where not submission_rows.is_total or submission_rows.measure <> 'referrals'
),

final as (
    select
        items.center_code,
        items.fiscal_year,
        items.measure,
        items.category,
        referral_forms.form,
        referral_categories.agency_group,
        items.reported_count
    from items
    inner join referral_forms
        on items.fiscal_year >= coalesce(referral_forms.first_fiscal_year, items.fiscal_year)
        and items.fiscal_year <= coalesce(referral_forms.last_fiscal_year, items.fiscal_year)
    left join referral_categories
        on items.measure = 'referrals'
        and referral_forms.form = referral_categories.form
        and items.category = referral_categories.category
)

select * from final
