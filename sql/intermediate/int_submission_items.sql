-- One row per reported item of every accepted version (not only the one that counts): each row as the
-- center sent it, the optional total rows included, with the item's labels. What "what changed"
-- compares between two versions of a center's submission, and what pending revisions are read from.
-- Key: (center_code, fiscal_year, version, measure, category).
with submissions as (
    select * from staging.stg_submissions
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

final as (
    select
        submissions.receipt_id,
        submissions.center_code,
        submissions.fiscal_year,
        submissions.version,
        submission_rows.measure,
        submission_rows.category,
        submission_rows.is_total,
        referral_categories.category_label,
        referral_categories.category_label_en,
        referral_categories.display_order,
        submission_rows.reported_count
    from submissions
    inner join submission_rows
        on submissions.receipt_id = submission_rows.receipt_id
    inner join referral_forms
        on submissions.fiscal_year >= coalesce(referral_forms.first_fiscal_year, submissions.fiscal_year)
        and submissions.fiscal_year <= coalesce(referral_forms.last_fiscal_year, submissions.fiscal_year)
    left join referral_categories
        on submission_rows.measure = 'referrals'
        and referral_forms.form = referral_categories.form
        and submission_rows.category = referral_categories.category
)

select * from final
