"""An upload, from bytes to verdict: the pre-check's rules, kept with its result, handed over if it passed."""

import logging
import os
import queue
import threading
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from hikikomori.domain.fiscal_years import JAPAN, describe_fiscal_year
from hikikomori.domain.reference import ReferenceData, load_reference_data
from hikikomori.pipeline.plausibility import (
    PlausibilityWarning,
    outlier_rule,
    plausibility_warnings,
    warnings_for_accepted,
)
from hikikomori.portal import audit
from hikikomori.portal.handover import hand_over
from hikikomori.portal.models import Upload, UploadContent, User
from hikikomori.portal.vocabulary import AuditAction, Verdict, Via
from hikikomori.schemas.files import PortalManifest, ReceivedFile, received_from_bytes
from hikikomori.schemas.rules import Issue
from hikikomori.schemas.validation import Totals, validate_files
from hikikomori.settings import Settings
from hikikomori.warehouse import portal_queries
from hikikomori.warehouse.portal_queries import AnalyticsUnavailable

logger = logging.getLogger(__name__)


class ForeignCenterError(Exception):
    """The file's name says it is another center's: a center submits only its own."""

    def __init__(self, center_code: str) -> None:
        super().__init__(center_code)
        self.center_code = center_code


@dataclass(frozen=True)
class Checked:
    """What the rules said about an upload, before anything is stored."""

    issues: list[Issue]
    warnings: list[dict[str, Any]]
    totals: dict[str, int]
    fiscal_year: int | None
    file_name: str  # the name it arrived under (last part only)
    sha256: str  # the receipt number
    inbox_name: str | None  # <center>_<fiscal_year>.<ext>, set when it passed
    warehouse_compared: bool  # whether the analysts' copy was there to compare with the previous year


def hikikomori_settings() -> Settings:
    return django_settings.HIKIKOMORI


@cache
def _reference(reference_dir: Path, registry_path: Path) -> ReferenceData:
    return load_reference_data(reference_dir, registry_path)


def reference_data(settings: Settings | None = None) -> ReferenceData:
    settings = settings or hikikomori_settings()
    return _reference(settings.reference_dir, settings.registry_path)


def check(name: str, content: bytes, center_code: str, settings: Settings) -> Checked:
    """The same rules as ``hikikomori validate`` and the run, on bytes that never touch the disk."""
    received = received_from_bytes(name, content, center_code, settings.limits)
    if received.name_center_code is not None and received.name_center_code != center_code:
        raise ForeignCenterError(received.name_center_code)
    return _verdicts.judge(received, settings)


def check_batch(batch: list[ReceivedFile], settings: Settings) -> list[Checked]:
    """Verdicts for uploads that arrived together: one validation and one comparison for all of them.

    Validation is batch-wise (files stay independent: one file's problems are its own); its fixed cost
    (the pandera checks) dominates a single file's, so concurrent uploads share it.
    """
    results = validate_files(batch, reference_data(settings), settings.portal.today(), settings.limits)
    accepted = {
        index: (str(index), result.center_code, result.fiscal_year, result.loaded.totals)
        for index, result in enumerate(results)
        if result.loaded is not None and result.center_code is not None and result.fiscal_year is not None
    }
    warnings, compared = _warnings(list(accepted.values()), settings)
    checked = []
    for index, (received, result) in enumerate(zip(batch, results, strict=True)):
        passed = result.accepted
        checked.append(
            Checked(
                issues=result.issues,
                warnings=[replace(w, file=received.name).as_record() for w in warnings if w.file == str(index)],
                totals=accepted[index][3] if index in accepted else {},
                fiscal_year=received.name_fiscal_year or result.fiscal_year,
                file_name=received.name,
                sha256=received.sha256,
                # The name matched <center>_<year>.<ext>: the inbox name is rebuilt from its checked parts.
                inbox_name=f"{received.name_center_code}_{received.name_fiscal_year}{received.suffix}"
                if passed
                else None,
                warehouse_compared=compared,
            )
        )
    return checked


def _warnings(
    accepted: list[tuple[str, str, int, Totals]], settings: Settings
) -> tuple[list[PlausibilityWarning], bool]:
    """Plausibility warnings, against the previous year in the analysts' copy when there is one."""
    factor = settings.change_warning_factor
    if accepted:
        try:
            with portal_queries.analytics_connection(settings.analytics_path) as connection:
                return warnings_for_accepted(connection, accepted, factor, outlier_rule(settings)), True
        except AnalyticsUnavailable as error:
            if not error.missing:
                logger.warning("analysts' copy unreadable, no comparison with the previous year: %s", error)
    return [
        warning
        for file, center, year, totals in accepted
        for warning in plausibility_warnings(file, center, year, totals, None, factor)
    ], False


@dataclass
class _Pending:
    received: ReceivedFile
    settings: Settings
    done: threading.Event = field(default_factory=threading.Event)
    checked: Checked | None = None
    error: BaseException | None = None


class _Verdicts:
    """Each server process judges the uploads waiting at the same moment together, on one thread."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._worker: tuple[int, threading.Thread] | None = None

    def judge(self, received: ReceivedFile, settings: Settings) -> Checked:
        pending = _Pending(received, settings)
        self._queue.put(pending)
        self._ensure_worker()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.checked is not None
        return pending.checked

    def _ensure_worker(self) -> None:
        with self._lock:  # one worker per process: a thread does not survive the server's fork
            if self._worker is None or self._worker[0] != os.getpid() or not self._worker[1].is_alive():
                thread = threading.Thread(target=self._work, name="hikikomori-verdicts", daemon=True)
                thread.start()
                self._worker = (os.getpid(), thread)

    def _work(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < _MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for settings, group in _by_settings(batch):
                try:
                    for pending, checked in zip(group, check_batch([p.received for p in group], settings), strict=True):
                        pending.checked = checked
                except Exception as error:  # the request fails with it, the worker goes on
                    for pending in group:
                        pending.error = error
                for pending in group:
                    pending.done.set()


_MAX_BATCH = 100
_verdicts = _Verdicts()


def _by_settings(batch: list[_Pending]) -> list[tuple[Settings, list[_Pending]]]:
    groups: dict[int, tuple[Settings, list[_Pending]]] = {}
    for pending in batch:
        groups.setdefault(id(pending.settings), (pending.settings, []))[1].append(pending)
    return list(groups.values())


def submit(user: User, name: str, content: bytes, via: Via, request: Any = None) -> Upload:
    """Judge, keep and (when it passed) hand over one upload of the user's center."""
    settings = hikikomori_settings()
    uploaded_at = timezone.now()
    try:
        checked = check(name, content, user.center_code, settings)
    except ForeignCenterError as error:
        audit.record(AuditAction.UPLOAD_FORBIDDEN, request=request, user=user, file_center=error.center_code)
        raise
    upload = Upload(
        user=user,
        center_code=user.center_code,
        fiscal_year=checked.fiscal_year,
        file_name=checked.file_name[:255],
        sha256=checked.sha256,
        size_bytes=len(content),
        uploaded_at=uploaded_at,
        via=via,
        verdict=Verdict.REFUSED if checked.issues else Verdict.PASSED,
        issues=[_issue_record(issue) for issue in checked.issues],
        warnings=checked.warnings,
        totals=checked.totals,
    )
    with transaction.atomic():  # kept before anything is handed over: nothing uploaded is ever lost
        upload.save(force_insert=True)
        UploadContent.objects.create(upload=upload, data=content)
        audit.record(
            AuditAction.UPLOAD,
            request=request,
            user=user,
            upload_id=str(upload.id),
            verdict=upload.verdict,
            sha256=upload.sha256,
            fiscal_year=upload.fiscal_year,
            via=via,
        )
    if upload.passed:
        assert checked.inbox_name is not None
        deliver(upload, checked.inbox_name, content, settings)
    return upload


def deliver(upload: Upload, inbox_name: str, content: bytes, settings: Settings) -> None:
    """Write the upload into the inbox; a failure leaves it kept and retried when the portal next starts."""
    manifest = PortalManifest(
        upload_id=str(upload.id),
        receipt=upload.sha256,
        center_code=upload.center_code,
        fiscal_year=int(upload.fiscal_year or 0),
        file_name=upload.file_name,
        uploaded_at=upload.uploaded_at.astimezone(JAPAN).isoformat(),
        username=upload.user.username,
    )
    try:
        hand_over(settings.inbox_dir, manifest, inbox_name, content)
    except OSError:
        logger.exception("upload %s kept but not handed over to %s", upload.id, settings.inbox_dir)
        return
    upload.handed_over_at = timezone.now()
    upload.save(update_fields=["handed_over_at"])


def deliver_pending(settings: Settings) -> int:
    """Hand over passed uploads a failure or a stop left undelivered; how many were delivered."""
    delivered = 0
    for upload in Upload.objects.filter(verdict=Verdict.PASSED, handed_over_at__isnull=True).order_by("uploaded_at"):
        suffix = Path(upload.file_name).suffix.lower()
        deliver(upload, f"{upload.center_code}_{upload.fiscal_year}{suffix}", bytes(upload.content.data), settings)
        delivered += upload.handed_over_at is not None
    return delivered


def issues_of(upload: Upload) -> list[Issue]:
    fields = Issue.__dataclass_fields__
    return [Issue(**{key: value for key, value in record.items() if key in fields}) for record in upload.issues]


def _issue_record(issue: Issue) -> dict[str, Any]:
    return {**asdict(issue), **issue.as_record()}


def uploaded_at_japan(upload: Upload) -> datetime:
    return upload.uploaded_at.astimezone(JAPAN)


_RECEIPT_MEASURES = {
    "consultations": "延べ相談件数",
    "referrals": "関係機関につないだ件数（区分の合計）",
    "supporter_activities": "ひきこもりサポーターの活動件数",
}


def receipt_text(upload: Upload, center_name: str) -> bytes:
    """The upload's receipt (受付票): UTF-8 with BOM so Windows' Notepad shows Japanese intact."""
    lines = [
        "受付票（提出ポータル）/ upload receipt",
        f"受付番号 (SHA-256) / receipt: {upload.sha256}",
        f"提出ID / upload id: {upload.id}",
        f"団体 / center: {upload.center_code} {center_name}",
        f"年度 / fiscal year: {describe_fiscal_year(upload.fiscal_year) if upload.fiscal_year else '-'}",
        f"ファイル / file: {upload.file_name}",
        f"受付日時 / uploaded at: {uploaded_at_japan(upload):%Y-%m-%d %H:%M:%S} (JST)",
        f"提出者 / uploaded by: {upload.user.username}",
        "読み取った合計 / totals read:",
        *(
            f"  {text} ({measure}): {upload.totals[measure]:,}"
            for measure, text in _RECEIPT_MEASURES.items()
            if measure in upload.totals
        ),
        "検査に合格し、集計の受付箱に渡しました。次回の集計で取り込まれ、ポータルに版が表示されます。",
        "The file passed every check and waits for the next pipeline run; its version then shows in the portal.",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")
