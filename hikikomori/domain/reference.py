"""Reference data: the center registry, the referral forms and their categories.

Loaded from the CSV files in ``reference/`` (the registry can be replaced with ``--registry``).
Plain ``csv`` rather than pandas keeps the center's pre-check fast.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

from hikikomori.domain.center_codes import has_valid_check_digit
from hikikomori.domain.text import normalize_text
from hikikomori.resources import package_path

REGISTRY_COLUMNS = ("center_code", "center_name", "kind", "opened_fiscal_year", "sites")
CENTER_KINDS = ("prefecture", "designated_city", "municipality")
TOTAL_CATEGORY = "total"
# The paper's heading for a total row; accepted as a label for ``total``.
TOTAL_LABELS = ("総計", "合計")


class ReferenceDataError(ValueError):
    """A reference file (usually a ``--registry`` override) is malformed."""


@dataclass(frozen=True)
class Center:
    center_code: str
    center_name: str
    kind: str
    opened_fiscal_year: int
    sites: int


@dataclass(frozen=True)
class ReferralCategory:
    form: str
    category: str
    label_ja: str
    published_label: str
    label_en: str
    agency_group: str
    display_order: int


@dataclass(frozen=True)
class ReferralGroup:
    agency_group: str
    label_ja: str
    label_en: str
    display_order: int


@dataclass(frozen=True)
class ReferralForm:
    form: str
    first_fiscal_year: int | None
    last_fiscal_year: int | None

    def covers(self, fiscal_year: int) -> bool:
        after_start = self.first_fiscal_year is None or fiscal_year >= self.first_fiscal_year
        before_end = self.last_fiscal_year is None or fiscal_year <= self.last_fiscal_year
        return after_start and before_end


@dataclass(frozen=True)
class ReferenceData:
    centers: dict[str, Center]
    forms: tuple[ReferralForm, ...]
    categories: tuple[ReferralCategory, ...]
    groups: tuple[ReferralGroup, ...]
    registry_path: Path
    reference_dir: Path

    def form_for(self, fiscal_year: int) -> str:
        return next(form.form for form in self.forms if form.covers(fiscal_year))

    def form_categories(self, form: str) -> tuple[ReferralCategory, ...]:
        return tuple(category for category in self.categories if category.form == form)

    def resolve_category(self, form: str, text: str) -> str | None:
        """The category code meant by a code or Japanese label on that form, else None.

        The plain label ハローワーク means ``hello_work``: the duplicated label's other column
        (``hello_work_duplicate``) must be given by its code or this project's own label.
        """
        value = normalize_text(text)
        if value == TOTAL_CATEGORY or value in TOTAL_LABELS:
            return TOTAL_CATEGORY
        for category in self.form_categories(form):
            if value == category.category or value == normalize_text(category.label_ja):
                return category.category
        return None


def bundled_reference_dir() -> Path:
    """The reference CSVs shipped with the package."""
    return package_path("domain", "data")


def bundled_registry() -> Path:
    return bundled_reference_dir() / "centers.csv"


def load_reference_data(reference_dir: Path | None = None, registry_path: Path | None = None) -> ReferenceData:
    """The reference data; the bundled files unless other paths are given (``--registry``)."""
    reference_dir = reference_dir or bundled_reference_dir()
    registry_path = registry_path or bundled_registry()
    return ReferenceData(
        centers=load_registry(registry_path),
        forms=tuple(
            ReferralForm(
                row["form"],
                _optional_int(row["first_fiscal_year"]),
                _optional_int(row["last_fiscal_year"]),
            )
            for row in _read_csv(reference_dir / "referral_forms.csv")
        ),
        categories=tuple(
            ReferralCategory(
                form=row["form"],
                category=row["category"],
                label_ja=row["label_ja"],
                published_label=row["published_label"],
                label_en=row["label_en"],
                agency_group=row["agency_group"],
                display_order=int(row["display_order"]),
            )
            for row in _read_csv(reference_dir / "referral_categories.csv")
        ),
        groups=tuple(
            ReferralGroup(row["agency_group"], row["label_ja"], row["label_en"], int(row["display_order"]))
            for row in _read_csv(reference_dir / "referral_groups.csv")
        ),
        registry_path=registry_path,
        reference_dir=reference_dir,
    )


def load_registry(path: Path) -> dict[str, Center]:
    """Read and check a center registry CSV; every problem is listed in one error."""
    rows = _read_csv(path)
    if not rows or tuple(rows[0].keys()) != REGISTRY_COLUMNS:
        found = ",".join(rows[0].keys()) if rows else "(empty)"
        raise ReferenceDataError(f"{path}: registry columns must be {','.join(REGISTRY_COLUMNS)}; found {found}")
    centers: dict[str, Center] = {}
    problems: list[str] = []
    for line_number, row in enumerate(rows, start=2):
        code = row["center_code"].strip()
        if not has_valid_check_digit(code):
            problems.append(f"line {line_number}: center_code {code!r} is not 6 digits with a valid check digit")
        elif code in centers:
            problems.append(f"line {line_number}: center_code {code} appears twice")
        if row["kind"] not in CENTER_KINDS:
            problems.append(f"line {line_number}: kind {row['kind']!r} is not one of {', '.join(CENTER_KINDS)}")
        try:
            opened, sites = int(row["opened_fiscal_year"]), int(row["sites"])
        except ValueError:
            problems.append(f"line {line_number}: opened_fiscal_year and sites must be whole numbers")
            continue
        if sites < 1:
            problems.append(f"line {line_number}: sites must be at least 1")
        centers[code] = Center(code, row["center_name"].strip(), row["kind"], opened, sites)
    if problems:
        raise ReferenceDataError(f"{path}: invalid registry\n" + "\n".join(problems))
    return centers


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as error:
        raise ReferenceDataError(f"cannot read {path}: {error}") from error


def _optional_int(text: str) -> int | None:
    return int(text) if text else None
