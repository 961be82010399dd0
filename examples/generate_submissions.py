"""Write example center submission files (one CSV per center per fiscal year) from a fixed seed.

FY2012–FY2016 reproduce the national figures published in the MHLW paper: every figure is split
across the centers open that year with random (seeded) weights and largest-remainder rounding, so
the per-center files add up exactly to the paper. FY2017–FY2018 are invented, on the detailed
21-category form, and also report supporter activities. The per-center splits are not real data.

The files mix the forms centers actually send (UTF-8, UTF-8 with BOM, CP932; LF or CRLF; era-named
fiscal years; Japanese category labels; counts such as "1,323", １３２３ or 1323.0; Excel's empty
rows; per-center folders). One file, 大阪市 FY2017, is deliberately invalid to show quarantine.

Each run first deletes the CSVs it writes (<center_code>_<FY2012–FY2018>.csv, directly in --out or
in its 6-digit per-center folders) and per-center folders left empty; nothing else is touched.

Usage: .venv/bin/python examples/generate_submissions.py [--out DIR] [--seed INT]
"""

import argparse
import csv
import random
import re
from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from hikikomori.domain.fiscal_years import fiscal_year_label
from hikikomori.domain.reference import Center, ReferenceData, ReferralCategory, load_reference_data

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "examples" / "submissions"
HEADER = ("center_code", "fiscal_year", "measure", "category", "count")
TOTAL = "total"
MANAGED_FILE = re.compile(r"^\d{6}_(\d{4})\.csv$")
MANAGED_FOLDER = re.compile(r"^\d{6}$")

# Published national figures (the generator's targets).
PAPER_CONSULTATIONS = {2012: 34312, 2013: 54470, 2014: 69701, 2015: 83211, 2016: 90794}
SUMMARY_GROUPS = (
    "mental_health_welfare_center",
    "public_health_center",
    "medical_institution",
    "npo",
    "youth_support_station",
    "hello_work",
    "child_guidance_center",
    "welfare_office",
    "other",
)
PAPER_SUMMARY_REFERRALS = {
    year: dict(zip(SUMMARY_GROUPS, counts, strict=True))
    for year, counts in {
        2012: (656, 488, 361, 339, 278, 101, 74, 82, 981),
        2013: (915, 722, 442, 397, 418, 96, 46, 85, 1783),
        2014: (1193, 992, 710, 848, 544, 123, 50, 104, 2706),
        2015: (1314, 815, 813, 1015, 568, 121, 94, 142, 2539),
    }.items()
}
PAPER_DETAILED_REFERRALS_2016 = {
    "welfare_office": 239,
    "municipal_office": 313,
    "social_welfare_council": 92,
    "self_reliance_support_agency": 97,
    "community_general_support_center": 31,
    "child_guidance_center": 50,
    "child_family_support_center": 42,
    "public_health_center": 823,
    "mental_health_welfare_center": 1323,
    "developmental_disability_support_center": 89,
    "medical_institution": 723,
    "hello_work_duplicate": 92,
    "youth_support_station": 674,
    "hello_work": 106,
    "company": 31,
    "school": 363,
    "private_support_org": 981,
    "disability_employment_facility": 482,
    "disability_welfare_facility": 86,
    "other_hikikomori_center": 186,
    "other": 697,
}


@dataclass(frozen=True)
class InventedTotals:
    consultations: int
    referrals: int
    supporter_activities: int


# Invented years (not in the paper): referrals are split over the detailed categories in FY2016's
# proportions.
INVENTED_TOTALS = {
    2017: InventedTotals(consultations=95318, referrals=7912, supporter_activities=1186),
    2018: InventedTotals(consultations=101027, referrals=8347, supporter_activities=1403),
}
FISCAL_YEARS = tuple(sorted([*PAPER_CONSULTATIONS, *INVENTED_TOTALS]))

# The deliberately invalid file: its largest referral is typed negative and it adds a row with a
# category that is on no form.
REJECTED_FILE = ("271004", 2017)
UNKNOWN_CATEGORY_LABEL = "ひきこもり家族会"
UNKNOWN_CATEGORY_COUNT = "4"

# Code that must be written as a code: its label would be read as hello_work (CONTRACT.md §1).
CODE_ONLY_CATEGORIES = ("hello_work_duplicate",)
ERA_LETTERS = {"平成": "H", "令和": "R"}
ENCODINGS = ("utf-8", "utf-8-sig", "cp932")
CRLF = "\r\n"
COUNT_STYLES = ("plain", "thousands", "full_width", "excel_float", "padded")
FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class NationalFigures:
    consultations: int
    referrals: dict[str, int]  # category code on the year's form → count
    supporter_activities: int | None


@dataclass(frozen=True)
class CenterReport:
    center_code: str
    fiscal_year: int
    consultations: int
    referrals: dict[str, int]
    supporter_activities: int | None


@dataclass(frozen=True)
class FileStyle:
    encoding: str
    line_ending: str
    year_text: str
    count_style: str
    japanese_labels: bool
    referral_total_row: bool
    empty_rows: int
    in_folder: bool


def split_exactly(total: int, weights: list[float]) -> list[int]:
    """Non-negative integers proportional to the weights that sum to total (largest remainder)."""
    weight_sum = sum(Fraction(weight) for weight in weights)
    quotas = [Fraction(total) * Fraction(weight) / weight_sum for weight in weights]
    shares = [int(quota) for quota in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda index: (shares[index] - quotas[index], index))
    for index in by_remainder[: total - sum(shares)]:
        shares[index] += 1
    return shares


def national_figures(fiscal_year: int) -> NationalFigures:
    """The paper's figures for FY2012–FY2016; the invented ones for later years."""
    if fiscal_year in PAPER_SUMMARY_REFERRALS:
        return NationalFigures(PAPER_CONSULTATIONS[fiscal_year], PAPER_SUMMARY_REFERRALS[fiscal_year], None)
    if fiscal_year == 2016:
        return NationalFigures(PAPER_CONSULTATIONS[2016], PAPER_DETAILED_REFERRALS_2016, None)
    invented = INVENTED_TOTALS[fiscal_year]
    categories = list(PAPER_DETAILED_REFERRALS_2016)
    weights = [float(PAPER_DETAILED_REFERRALS_2016[category]) for category in categories]
    referrals = dict(zip(categories, split_exactly(invented.referrals, weights), strict=True))
    return NationalFigures(invented.consultations, referrals, invented.supporter_activities)


def check_form(reference: ReferenceData, fiscal_year: int, figures: NationalFigures) -> None:
    """The figures must cover exactly the categories of that year's referral form."""
    expected = {category.category for category in form_categories(reference, fiscal_year)}
    if set(figures.referrals) != expected:
        raise ValueError(f"FY{fiscal_year}: figures do not match the {reference.form_for(fiscal_year)} form")


def form_categories(reference: ReferenceData, fiscal_year: int) -> tuple[ReferralCategory, ...]:
    return reference.form_categories(reference.form_for(fiscal_year))


def center_sizes(centers: list[Center], rng: random.Random) -> dict[str, float]:
    """A fixed random size per center (more sites, more work) that skews its shares every year."""
    return {center.center_code: rng.lognormvariate(0, 0.6) * center.sites for center in centers}


def split_figures(
    figures: NationalFigures,
    fiscal_year: int,
    centers: list[Center],
    sizes: dict[str, float],
    rng: random.Random,
) -> list[CenterReport]:
    """Each national figure split unevenly over the centers, every split summing exactly."""

    def split(total: int) -> list[int]:
        # A modest yearly variation around each center's size: real centers do not swing 3× a year
        # (the pipeline warns when they do).
        weights = [sizes[center.center_code] * rng.uniform(0.8, 1.25) for center in centers]
        return split_exactly(total, weights)

    consultations = split(figures.consultations)
    referrals = {category: split(total) for category, total in figures.referrals.items()}
    supporters = None
    if figures.supporter_activities is not None:
        supporters = split(figures.supporter_activities)
    return [
        CenterReport(
            center_code=center.center_code,
            fiscal_year=fiscal_year,
            consultations=consultations[index],
            referrals={category: counts[index] for category, counts in referrals.items()},
            supporter_activities=None if supporters is None else supporters[index],
        )
        for index, center in enumerate(centers)
    ]


def year_forms(fiscal_year: int) -> tuple[str, ...]:
    """The ways staff write a fiscal year: 2016, 平成28年度, 平成28, H28."""
    label = fiscal_year_label(fiscal_year)
    era_year = label.removesuffix("年度")
    era_name = era_year[:2]
    return str(fiscal_year), label, era_year, ERA_LETTERS[era_name] + era_year[2:]


def choose_style(seed: int, center_code: str, fiscal_year: int) -> FileStyle:
    """The form of one file, drawn from its own seeded generator so it depends on nothing else."""
    rng = random.Random(f"{seed}:{center_code}:{fiscal_year}")
    encoding = rng.choices(ENCODINGS, weights=(4, 3, 3))[0]
    excel_csv = encoding == "cp932"
    return FileStyle(
        encoding=encoding,
        line_ending=CRLF if rng.random() < (0.85 if excel_csv else 0.4) else "\n",
        year_text=rng.choice(year_forms(fiscal_year)),
        count_style=rng.choices(COUNT_STYLES, weights=(5, 2, 1, 1, 1))[0],
        japanese_labels=rng.random() < (0.85 if excel_csv else 0.2),
        referral_total_row=rng.random() < 0.4,
        empty_rows=rng.choice((2, 3, 5)) if rng.random() < (0.5 if excel_csv else 0.15) else 0,
        in_folder=rng.random() < 0.25,
    )


def format_count(count: int, style: str) -> str:
    if style == "thousands":
        return f"{count:,}"
    if style == "full_width":
        return str(count).translate(FULL_WIDTH_DIGITS)
    if style == "excel_float":
        return f"{count}.0"
    if style == "padded":
        return f" {count} "
    return str(count)


def category_text(category: ReferralCategory, style: FileStyle) -> str:
    if style.japanese_labels and category.category not in CODE_ONLY_CATEGORIES:
        return category.label_ja
    return category.category


def submission_rows(
    report: CenterReport, categories: tuple[ReferralCategory, ...], style: FileStyle
) -> list[list[str]]:
    """The data rows in the canonical order: consultations, referrals (+ total), supporters."""

    def row(measure: str, category: str, count: int) -> list[str]:
        text = format_count(count, style.count_style)
        return [report.center_code, style.year_text, measure, category, text]

    rows = [row("consultations", TOTAL, report.consultations)]
    for category in categories:
        rows.append(row("referrals", category_text(category, style), report.referrals[category.category]))
    if style.referral_total_row:
        rows.append(row("referrals", TOTAL, sum(report.referrals.values())))
    if report.supporter_activities is not None:
        rows.append(row("supporter_activities", TOTAL, report.supporter_activities))
    return rows


def rejected_rows(report: CenterReport, categories: tuple[ReferralCategory, ...], style: FileStyle) -> list[list[str]]:
    """Valid rows, except the largest referral typed as negative and an extra unknown category."""
    rows = submission_rows(report, categories, style)
    largest = max(range(len(categories)), key=lambda i: report.referrals[categories[i].category])
    negative_row = rows[1 + largest]
    negative_row[4] = f"-{report.referrals[categories[largest].category]}"
    unknown = [
        report.center_code,
        style.year_text,
        "referrals",
        UNKNOWN_CATEGORY_LABEL,
        UNKNOWN_CATEGORY_COUNT,
    ]
    rows.insert(1 + len(categories), unknown)
    return rows


def file_path(out: Path, center_code: str, fiscal_year: int, style: FileStyle) -> Path:
    folder = out / center_code if style.in_folder else out
    return folder / f"{center_code}_{fiscal_year}.csv"


def write_csv(path: Path, rows: list[list[str]], style: FileStyle) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=style.encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator=style.line_ending)
        writer.writerow(HEADER)
        writer.writerows(rows)
        writer.writerows([[""] * len(HEADER)] * style.empty_rows)


def is_managed_file(name: str) -> bool:
    """A submission CSV name for one of the fiscal years this script writes."""
    match = MANAGED_FILE.match(name)
    return match is not None and int(match.group(1)) in FISCAL_YEARS


def remove_managed_files(out: Path) -> None:
    """Delete this script's CSVs (in --out and its per-center folders), then emptied folders."""
    if not out.is_dir():
        return
    for folder in [out, *(path for path in out.iterdir() if path.is_dir())]:
        if folder != out and not MANAGED_FOLDER.match(folder.name):
            continue
        for path in folder.iterdir():
            if path.is_file() and is_managed_file(path.name):
                path.unlink()
        if folder != out and not any(folder.iterdir()):
            folder.rmdir()


def report_totals(reports: list[CenterReport]) -> dict[str, int]:
    supporters = [r.supporter_activities for r in reports if r.supporter_activities is not None]
    totals = {
        "consultations": sum(report.consultations for report in reports),
        "referrals": sum(sum(report.referrals.values()) for report in reports),
    }
    if supporters:
        totals["supporter_activities"] = sum(supporters)
    return totals


def print_summary(
    valid: dict[int, list[CenterReport]],
    rejected: list[tuple[str, CenterReport]],
    styles: list[FileStyle],
) -> None:
    rejected_per_year = Counter(report.fiscal_year for _, report in rejected)
    print("fiscal year        files  national totals over the valid files")
    for fiscal_year, reports in valid.items():
        files = len(reports) + rejected_per_year[fiscal_year]
        totals = ", ".join(f"{m} {n:,}" for m, n in report_totals(reports).items())
        print(f"FY{fiscal_year} {fiscal_year_label(fiscal_year)}  {files:5}  {totals}")
    for name, report in rejected:
        totals = ", ".join(f"{m} {n:,}" for m, n in report_totals([report]).items())
        print(f"deliberately invalid, not in the totals: {name} ({totals})")
    encodings = Counter(style.encoding for style in styles)
    print(
        f"{len(styles)} files: "
        + ", ".join(f"{encoding} {encodings[encoding]}" for encoding in ENCODINGS)
        + f"; CRLF {sum(style.line_ending == CRLF for style in styles)}"
        + f"; per-center folders {sum(style.in_folder for style in styles)}"
        + f"; Japanese labels {sum(style.japanese_labels for style in styles)}"
        + f"; referrals total row {sum(style.referral_total_row for style in styles)}"
        + f"; Excel empty rows {sum(style.empty_rows > 0 for style in styles)}"
    )
    count_styles = Counter(style.count_style for style in styles)
    print("count styles: " + ", ".join(f"{name} {count_styles[name]}" for name in COUNT_STYLES))


def generate(out: Path, seed: int, reference: ReferenceData) -> None:
    rng = random.Random(seed)
    centers = [reference.centers[code] for code in sorted(reference.centers)]
    sizes = center_sizes(centers, rng)
    remove_managed_files(out)
    valid: dict[int, list[CenterReport]] = {}
    rejected: list[tuple[str, CenterReport]] = []
    styles: list[FileStyle] = []
    for fiscal_year in FISCAL_YEARS:
        figures = national_figures(fiscal_year)
        check_form(reference, fiscal_year, figures)
        categories = form_categories(reference, fiscal_year)
        open_centers = [center for center in centers if center.opened_fiscal_year <= fiscal_year]
        valid[fiscal_year] = []
        for report in split_figures(figures, fiscal_year, open_centers, sizes, rng):
            style = choose_style(seed, report.center_code, fiscal_year)
            if (report.center_code, fiscal_year) == REJECTED_FILE:
                style = replace(style, referral_total_row=False, in_folder=True)
                path = file_path(out, report.center_code, fiscal_year, style)
                write_csv(path, rejected_rows(report, categories, style), style)
                rejected.append((path.relative_to(out).as_posix(), report))
            else:
                path = file_path(out, report.center_code, fiscal_year, style)
                write_csv(path, submission_rows(report, categories, style), style)
                valid[fiscal_year].append(report)
            styles.append(style)
    print_summary(valid, rejected, styles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=2018, help="random seed")
    args = parser.parse_args()
    reference = load_reference_data(REPO_ROOT / "reference", REPO_ROOT / "reference" / "centers.csv")
    generate(args.out, args.seed, reference)


if __name__ == "__main__":
    main()
