"""Statuses the pages and the API show: the portal's own record of uploads joined with what the runs
made of them (the analysts' copy, read-only). A passed upload no run has taken yet is "submitted".

Deadlines, timeliness and the reporting rate are the pipeline's (marts.fiscal_year_status,
submission_status, reporting_rates), read from the copy: one definition. A year the copy does not know
yet (no run, no calendar entry) has the default deadline, the same function the pipeline uses.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from hikikomori.domain.fiscal_years import default_deadline, fiscal_year_label, last_ended_fiscal_year
from hikikomori.domain.reference import Center, ReferenceData
from hikikomori.portal.models import Upload
from hikikomori.portal.vocabulary import UploadStatus, Verdict, YearStatus, label
from hikikomori.warehouse.portal_queries import CenterYear, CollectionData, RatesRow, TakenUpload


def deadline_for(fiscal_year: int, deadlines: Mapping[int, date] | None) -> date:
    """The submission deadline of a fiscal year: the pipeline's (the copy's), else the default."""
    return (deadlines or {}).get(fiscal_year) or default_deadline(fiscal_year)


@dataclass(frozen=True)
class UploadView:
    upload: Upload
    status: UploadStatus
    version: int | None

    @property
    def status_text(self) -> str:
        if not self.upload.passed:  # refused by the portal itself: never reached the pipeline
            return f"{label(Verdict.REFUSED).ja}（受け付けていません）"
        text = label(self.status).ja
        return f"{text} 第{self.version}版" if self.version is not None else text


def upload_status(upload: Upload, taken: TakenUpload | None) -> tuple[UploadStatus, int | None]:
    if not upload.passed:
        return UploadStatus.REJECTED, None
    if taken is None:
        return UploadStatus.SUBMITTED, None
    return UploadStatus(taken.outcome), taken.version


def upload_views(uploads: Iterable[Upload], outcomes: dict[str, TakenUpload]) -> list[UploadView]:
    return [UploadView(upload, *upload_status(upload, outcomes.get(str(upload.id)))) for upload in uploads]


@dataclass(frozen=True)
class YearView:
    """One fiscal year of one center, as its pages show it."""

    fiscal_year: int
    deadline: date
    status: YearStatus
    version: int | None  # the latest accepted version, if any
    uploads: int  # how many uploads the center made for the year through the portal
    past_deadline: bool

    @property
    def label(self) -> str:
        return fiscal_year_label(self.fiscal_year)

    @property
    def status_text(self) -> str:
        text = label(self.status).ja
        if self.status is YearStatus.ACCEPTED:
            return f"{text} 第{self.version}版"
        if self.status is YearStatus.PENDING and self.version is not None:
            return f"{text}（取込済み 第{self.version}版）"
        return text


def year_status(views: list[UploadView], record: CenterYear | None) -> tuple[YearStatus, int | None]:
    version = record.latest_version if record is not None else None
    if any(view.status is UploadStatus.SUBMITTED for view in views):
        return YearStatus.PENDING, version
    if version is not None:
        return YearStatus.ACCEPTED, version
    if (record is not None and record.rejected_files) or any(
        view.status is UploadStatus.REJECTED and view.upload.passed for view in views
    ):
        return YearStatus.REJECTED, None
    return YearStatus.MISSING, None


def reporting_years(center: Center, today: date) -> list[int]:
    """The fiscal years a center reports, newest first: from its opening to the last year ended."""
    return list(range(last_ended_fiscal_year(today), center.opened_fiscal_year - 1, -1))


def center_years(
    center: Center,
    today: date,
    views: list[UploadView],
    records: dict[int, CenterYear] | None,
    deadlines: Mapping[int, date] | None = None,
) -> list[YearView]:
    rows = []
    for fiscal_year in reporting_years(center, today):
        year_views = [view for view in views if view.upload.fiscal_year == fiscal_year]
        status, version = year_status(year_views, (records or {}).get(fiscal_year))
        deadline = deadline_for(fiscal_year, deadlines)
        rows.append(YearView(fiscal_year, deadline, status, version, len(year_views), today > deadline))
    return rows


@dataclass(frozen=True)
class CollectionRow:
    """One center in the ministry's view of a fiscal year."""

    center_code: str
    center_name: str
    status: YearStatus
    version: int | None
    first_submitted_at: datetime | None  # version 1's upload time (portal) or intake time
    on_time: bool | None  # None until a version is accepted
    uploads: int
    pending_version: int | None = None  # a closed year's revision waiting for accept-revision

    @property
    def status_label(self) -> str:
        text = label(self.status).ja
        return f"{text} 第{self.version}版" if self.status is YearStatus.ACCEPTED else text


@dataclass(frozen=True)
class Collection:
    fiscal_year: int
    deadline: date
    rows: list[CollectionRow]
    rates: RatesRow | None  # marts.reporting_rates (None before a run has accepted data for the year)

    def count(self, status: YearStatus) -> int:
        return sum(1 for row in self.rows if row.status is status)


def collection(
    fiscal_year: int,
    reference: ReferenceData,
    data: CollectionData | None,
    views: list[UploadView],
) -> Collection:
    """Every center expected for the year: the warehouse's status, with uploads still waiting for a run."""
    marts = {row.center_code: row for row in (data.rows if data else []) if row.fiscal_year == fiscal_year}
    rows = []
    for center in sorted(reference.centers.values(), key=lambda item: item.center_code):
        if center.opened_fiscal_year > fiscal_year:
            continue
        mart = marts.get(center.center_code)
        center_views = [view for view in views if view.upload.center_code == center.center_code]
        record = None
        if mart is not None:
            record = CenterYear(fiscal_year, mart.version, mart.received_at, 1 if mart.status == "rejected" else 0)
        status, version = year_status(center_views, record)
        rows.append(
            CollectionRow(
                center.center_code,
                center.center_name,
                status,
                version,
                mart.first_submitted_at if mart else None,
                mart.on_time if mart else None,
                len(center_views),
                mart.pending_version if mart else None,
            )
        )
    deadline = deadline_for(fiscal_year, data.deadlines if data else None)
    return Collection(fiscal_year, deadline, rows, data.rates.get(fiscal_year) if data else None)
