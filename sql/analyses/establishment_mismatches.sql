-- 設置自治体数: 名簿と論文の表の食い違い / centers established: registry vs the paper's table
select
    fiscal_year,
    fiscal_year_label,
    new_centers,
    published_new,
    cumulative_centers,
    published_cumulative
from marts.center_establishment
where not matches_published
order by fiscal_year;
