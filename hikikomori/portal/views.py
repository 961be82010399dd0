"""The portal's pages: server-rendered, no script, Japanese first with English alongside.

A center account reaches only its own center: every query of uploads is filtered by the account's
center, so another center's ids answer 404 and ministry pages answer 403.
"""

import io
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from hikikomori.domain.fiscal_years import describe_fiscal_year, fiscal_year_label, last_ended_fiscal_year
from hikikomori.domain.labels import label as domain_label
from hikikomori.domain.reference import Center
from hikikomori.domain.vocabulary import Measure
from hikikomori.pipeline.error_reports import issues_csv
from hikikomori.pipeline.governance import RequestRefused, VersionComparison, compare_versions, item_label
from hikikomori.portal import audit, national, status
from hikikomori.portal.forms import BilingualPasswordChangeForm, CommentForm, UploadForm
from hikikomori.portal.models import Upload, User
from hikikomori.portal.uploads import (
    ForeignCenterError,
    hikikomori_settings,
    issues_of,
    receipt_text,
    reference_data,
    submit,
)
from hikikomori.portal.vocabulary import AuditAction, Via, YearStatus, label
from hikikomori.schemas.template import build_template, template_file_name
from hikikomori.warehouse import portal_queries
from hikikomori.warehouse.portal_queries import AnalyticsUnavailable

View = TypeVar("View", bound=Callable[..., HttpResponse])
_CENTER_CODE_LENGTH = 6


class PortalLoginView(LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "failure_limit": hikikomori_settings().portal.login_failure_limit}


class PortalPasswordChangeView(PasswordChangeView):
    template_name = "portal/password.html"
    success_url = reverse_lazy("home")
    form_class = BilingualPasswordChangeForm

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(AuditAction.PASSWORD_SET, request=self.request, account=self.request.user.get_username())
        messages.success(self.request, "パスワードを変更しました / password changed")
        return response


def _only_for(allowed: Callable[[User], bool]) -> Callable[[View], View]:
    """A view for signed-in users whom ``allowed`` admits; anyone else signed in gets 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not allowed(_user(request)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


center_only = _only_for(lambda user: user.is_center)
ministry_only = _only_for(lambda user: user.is_ministry)


def _user(request: HttpRequest) -> User:
    return request.user


def _center(user: User) -> Center:
    return reference_data().centers[user.center_code]


def _analytics(read: Callable[[], Any]) -> tuple[Any, str | None]:
    """A read of the analysts' copy, or why there is none (pages say so instead of failing)."""
    try:
        return read(), None
    except AnalyticsUnavailable as error:
        return None, "missing" if error.missing else "unreadable"


def _visible_upload(request: HttpRequest, upload_id: UUID) -> Upload:
    """The upload if this account may see it: a center only its own center's (else 404)."""
    user = _user(request)
    if user.is_center:
        return get_object_or_404(Upload.objects.select_related("user"), id=upload_id, center_code=user.center_code)
    return get_object_or_404(Upload.objects.select_related("user"), id=upload_id)


def _center_status(
    center: Center, uploads: list[Upload]
) -> tuple[list[status.UploadView], list[status.YearView], str | None]:
    """A center's uploads and fiscal years as its pages show them, with the runs' outcomes from the
    analysts' copy, and why the copy could not be read (None when it could)."""
    settings = hikikomori_settings()
    records, problem = _analytics(lambda: portal_queries.center_records(settings.analytics_path, center.center_code))
    views = status.upload_views(uploads, records.uploads if records else {})
    years = status.center_years(
        center,
        settings.portal.today(),
        views,
        records.years if records else None,
        records.deadlines if records else None,
    )
    return views, years, problem


def _center_page(
    request: HttpRequest, *, form: UploadForm | None = None, error: str | None = None, code: int = 200
) -> HttpResponse:
    user = _user(request)
    settings = hikikomori_settings()
    center = _center(user)
    views, years, problem = _center_status(center, list(Upload.objects.filter(center_code=center.center_code)))
    context = {
        "center": center,
        "years": years,
        "recent": views[:10],
        "form": form or UploadForm(),
        "error": error,
        "analytics_problem": problem,
        "max_megabytes": _megabytes(settings.portal.max_upload_bytes),
    }
    return render(request, "portal/center_home.html", context, status=code)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    if _user(request).is_ministry:
        return redirect("ministry")
    if not _user(request).is_center:
        raise PermissionDenied
    return _center_page(request)


@require_POST
@center_only
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _center_page(request, form=form, code=400)
    uploaded = form.cleaned_data["file"]
    limit = hikikomori_settings().portal.max_upload_bytes
    if uploaded.size > limit:
        from hikikomori.portal.middleware import too_large

        return too_large(api=False, limit=limit)
    try:
        result = submit(_user(request), uploaded.name, uploaded.read(), Via.WEB, request)
    except ForeignCenterError as foreign:
        error = (
            f"このファイル名は団体コード {foreign.center_code} のものです。"
            f"自団体（{_user(request).center_code}）のファイルだけを提出できます / "
            f"the file is named for center {foreign.center_code}: submit only your own center's files"
        )
        return _center_page(request, error=error, code=403)
    return _upload_page(request, result, just_uploaded=True)


def _upload_page(request: HttpRequest, upload: Upload, *, just_uploaded: bool = False) -> HttpResponse:
    settings = hikikomori_settings()
    outcomes, problem = _analytics(lambda: portal_queries.portal_outcomes(settings.analytics_path, upload.center_code))
    (view,) = status.upload_views([upload], outcomes or {})
    center = reference_data().centers.get(upload.center_code)
    context = {
        "view": view,
        "upload": upload,
        "center": center,
        "fiscal_year_text": describe_fiscal_year(upload.fiscal_year) if upload.fiscal_year else "",
        "issues": upload.issues,
        "warnings": upload.warnings,
        "totals": _totals_rows(upload.totals),
        "just_uploaded": just_uploaded,
        "analytics_problem": problem,
        "comment_form": CommentForm(initial={"comment": upload.comment}),
        "can_comment": _user(request).is_center and upload.passed and bool(upload.warnings),
        "form": UploadForm(),
        "max_megabytes": _megabytes(settings.portal.max_upload_bytes),
    }
    return render(request, "portal/upload.html", context)


def _totals_rows(totals: dict[str, int]) -> list[tuple[str, str]]:
    return [(domain_label(measure).both, f"{totals[measure]:,}") for measure in Measure if measure in totals]


@require_GET
@center_only
def year(request: HttpRequest, fiscal_year: int) -> HttpResponse:
    user = _user(request)
    settings = hikikomori_settings()
    center = _center(user)
    if fiscal_year not in status.reporting_years(center, settings.portal.today()):
        raise Http404
    uploads = list(Upload.objects.filter(center_code=center.center_code, fiscal_year=fiscal_year))
    views, years, problem = _center_status(center, uploads)
    (row,) = [item for item in years if item.fiscal_year == fiscal_year]
    context = {
        "center": center,
        "row": row,
        "uploads": views,
        "form": UploadForm(),
        "analytics_problem": problem,
        "max_megabytes": _megabytes(settings.portal.max_upload_bytes),
    }
    return render(request, "portal/year.html", context)


@require_GET
@center_only
def template_download(request: HttpRequest, fiscal_year: int) -> HttpResponse:
    settings = hikikomori_settings()
    center = _center(_user(request))
    if fiscal_year not in status.reporting_years(center, settings.portal.today()):
        raise Http404
    buffer = io.BytesIO()
    build_template(reference_data(), center, fiscal_year).save(buffer)
    audit.record(AuditAction.DOWNLOAD, request=request, kind="form", fiscal_year=fiscal_year)
    return _attachment(buffer.getvalue(), template_file_name(center.center_code, fiscal_year), _XLSX)


@require_GET
@login_required
def upload_detail(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    return _upload_page(request, _visible_upload(request, upload_id))


@require_POST
@center_only
def upload_comment(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    upload = _visible_upload(request, upload_id)
    if not upload.passed:
        raise Http404
    form = CommentForm(request.POST)
    if form.is_valid():
        upload.comment = form.cleaned_data["comment"]
        upload.commented_at = timezone.now()
        upload.save(update_fields=["comment", "commented_at"])
        audit.record(AuditAction.COMMENT, request=request, upload_id=str(upload.id))
        messages.success(request, "確認コメントを記録しました / your comment was recorded")
    return redirect("upload_detail", upload_id=upload.id)


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(content: bytes, file_name: str, content_type: str) -> FileResponse:
    return FileResponse(io.BytesIO(content), as_attachment=True, filename=file_name, content_type=content_type)


@require_GET
@login_required
def upload_file(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    upload = _visible_upload(request, upload_id)
    suffix = Path(upload.file_name).suffix.lower()
    name = f"upload-{upload.id}{suffix if suffix in ('.csv', '.xlsx') else '.bin'}"
    audit.record(AuditAction.DOWNLOAD, request=request, kind="file", upload_id=str(upload.id))
    return _attachment(bytes(upload.content.data), name, "application/octet-stream")


@require_GET
@login_required
def upload_errors(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    upload = _visible_upload(request, upload_id)
    if upload.passed:
        raise Http404
    audit.record(AuditAction.DOWNLOAD, request=request, kind="errors", upload_id=str(upload.id))
    return _attachment(issues_csv(issues_of(upload)), f"errors-{upload.id}.csv", "text/csv; charset=utf-8")


@require_GET
@login_required
def upload_receipt(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    upload = _visible_upload(request, upload_id)
    if not upload.passed:
        raise Http404
    center = reference_data().centers.get(upload.center_code)
    audit.record(AuditAction.DOWNLOAD, request=request, kind="receipt", upload_id=str(upload.id))
    text = receipt_text(upload, center.center_name if center else "")
    return _attachment(text, f"receipt-{upload.id}.txt", "text/plain; charset=utf-8")


@require_GET
@ministry_only
def ministry_overview(request: HttpRequest) -> HttpResponse:
    settings = hikikomori_settings()
    last = last_ended_fiscal_year(settings.portal.today())
    data, problem = _analytics(lambda: portal_queries.collection_status(settings.analytics_path))
    first_year = min(center.opened_fiscal_year for center in reference_data().centers.values())
    years = list(range(last, first_year - 1, -1))
    try:
        fiscal_year = int(request.GET.get("year", last))
    except ValueError:
        fiscal_year = last
    if fiscal_year not in years:
        raise Http404
    uploads = list(Upload.objects.filter(fiscal_year=fiscal_year))
    outcomes, _ = _analytics(lambda: portal_queries.portal_outcomes(settings.analytics_path))
    views = status.upload_views(uploads, outcomes or {})
    collection = status.collection(fiscal_year, reference_data(), data, views)
    context = {
        "collection": collection,
        "label": fiscal_year_label(fiscal_year),
        "years": [(year, fiscal_year_label(year)) for year in years],
        "analytics_problem": problem,
        "counts": [(value, label(value).ja, collection.count(value)) for value in YearStatus],
    }
    return render(request, "portal/ministry_overview.html", context)


@require_GET
@ministry_only
def ministry_center(request: HttpRequest, center_code: str) -> HttpResponse:
    center = reference_data().centers.get(center_code) if len(center_code) == _CENTER_CODE_LENGTH else None
    if center is None:
        raise Http404
    views, years, problem = _center_status(
        center, list(Upload.objects.filter(center_code=center_code).select_related("user"))
    )
    context = {"center": center, "years": years, "uploads": views, "analytics_problem": problem}
    return render(request, "portal/ministry_center.html", context)


@require_GET
@ministry_only
def ministry_changes(request: HttpRequest, center_code: str, fiscal_year: int) -> HttpResponse:
    """What changed between two versions of a center's submission (default: the latest against the one
    that counts, or against the version before it), item by item, old → new."""
    settings = hikikomori_settings()
    center = reference_data().centers.get(center_code) if len(center_code) == _CENTER_CODE_LENGTH else None
    if center is None:
        raise Http404
    old, new = _version_parameter(request, "from"), _version_parameter(request, "to")
    refused = None

    def compare() -> VersionComparison | None:
        nonlocal refused
        with portal_queries.analytics_connection(settings.analytics_path) as connection:
            try:
                return compare_versions(connection, center_code, fiscal_year, old, new)
            except RequestRefused as error:
                refused = str(error)
                return None

    comparison, problem = _analytics(compare)
    context = {
        "center": center,
        "fiscal_year": fiscal_year,
        "fiscal_year_text": describe_fiscal_year(fiscal_year),
        "comparison": comparison,
        "changes": [
            (*item_label(change), _count_text(change.old), _count_text(change.new))
            for change in (comparison.changes if comparison else [])
        ],
        "refused": refused,
        "analytics_problem": problem,
    }
    return render(request, "portal/ministry_changes.html", context, status=404 if refused else 200)


def _count_text(count: int | None) -> str:
    return "—" if count is None else f"{count:,}"


def _version_parameter(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        raise Http404
    return int(value)


@require_GET
@ministry_only
def ministry_national(request: HttpRequest) -> HttpResponse:
    settings = hikikomori_settings()
    tables, problem = _analytics(lambda: portal_queries.national_tables(settings.analytics_path))
    shown = national.national_tables(tables, reference_data()) if tables else []
    return render(request, "portal/ministry_national.html", {"tables": shown, "analytics_problem": problem})


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g}"


def _error_page(request: HttpRequest, code: int, title: str, text: str) -> HttpResponse:
    return render(request, "portal/error.html", {"code": code, "title": title, "text": text}, status=code)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 400, "リクエストが正しくありません / bad request", "")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request, 403, "このページは表示できません / forbidden", "このアカウントでは利用できないページです。"
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 404, "ページが見つかりません / not found", "")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error_page(request, 500, "エラーが発生しました / server error", "時間をおいてもう一度お試しください。")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error_page(
        request,
        403,
        "送信を受け付けられませんでした / request refused (CSRF)",
        "ページを開き直してから、もう一度送信してください。/ Reload the page and send the form again.",
    )
