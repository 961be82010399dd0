"""``/api/v1/submissions`` for machine clients (CONTRACT.md §4): ``Authorization: Bearer TOKEN`` only.

Session cookies are never looked at here, which is why these views need no CSRF token.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from hikikomori.portal import audit, status
from hikikomori.portal.accounts import user_for_token
from hikikomori.portal.middleware import too_large
from hikikomori.portal.models import Upload, User
from hikikomori.portal.uploads import ForeignCenterError, hikikomori_settings, submit, uploaded_at_japan
from hikikomori.portal.vocabulary import AuditAction, UploadStatus, Via
from hikikomori.warehouse import portal_queries
from hikikomori.warehouse.portal_queries import AnalyticsUnavailable

_ISSUE_FIELDS = ("row", "column", "cell", "value", "rule", "message_ja", "message_en", "fix_ja", "fix_en")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def submissions(request: HttpRequest) -> HttpResponse:
    user = _token_user(request)
    if user is None:
        audit.record(AuditAction.API_DENIED, request=request, path=request.path)
        response = JsonResponse(
            {
                "status": "unauthorized",
                "message_ja": "有効なAPIトークンが必要です",
                "message_en": "a valid token is needed",
            },
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="hikikomori"'
        return response
    if request.method == "GET":
        return _list(user)
    return _create(request, user)


def _token_user(request: HttpRequest) -> User | None:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return user_for_token(token.strip())


def _create(request: HttpRequest, user: User) -> HttpResponse:
    if not user.is_center:
        return _error(403, "forbidden", "センターのアカウントだけが提出できます", "only center accounts submit files")
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return _error(400, "invalid", "multipart の file 欄にファイルを付けてください", "send the file as field 'file'")
    limit = hikikomori_settings().portal.max_upload_bytes
    if uploaded.size > limit:
        return too_large(api=True, limit=limit)
    try:
        upload = submit(user, uploaded.name or "", uploaded.read(), Via.API, request)
    except ForeignCenterError as foreign:
        return _error(
            403,
            "forbidden",
            f"団体コード {foreign.center_code} のファイルは提出できません（自団体 {user.center_code} のみ）",
            f"a file of center {foreign.center_code}: this account submits for {user.center_code} only",
        )
    if not upload.passed:
        issues = [{field: issue.get(field) for field in _ISSUE_FIELDS} for issue in upload.issues]
        return JsonResponse({"status": UploadStatus.REJECTED, "receipt": upload.sha256, "issues": issues}, status=422)
    return JsonResponse(
        {
            "status": UploadStatus.SUBMITTED,
            "receipt": upload.sha256,
            "center_code": upload.center_code,
            "fiscal_year": upload.fiscal_year,
            "warnings": upload.warnings,
            "upload_id": str(upload.id),
        },
        status=201,
    )


def _list(user: User) -> HttpResponse:
    settings = hikikomori_settings()
    center = user.center_code if user.is_center else None
    uploads = Upload.objects.all() if center is None else Upload.objects.filter(center_code=center)
    try:
        outcomes = portal_queries.portal_outcomes(settings.analytics_path, center)
    except AnalyticsUnavailable:
        outcomes = {}  # no run has published a copy yet: every passed upload is still waiting
    items: list[dict[str, Any]] = [
        {
            "receipt": view.upload.sha256,
            "file_name": view.upload.file_name,
            "fiscal_year": view.upload.fiscal_year,
            "uploaded_at": uploaded_at_japan(view.upload).isoformat(),
            "status": view.status,
            "version": view.version,
            "center_code": view.upload.center_code,
            "upload_id": str(view.upload.id),
        }
        for view in status.upload_views(uploads.order_by("-uploaded_at"), outcomes)
    ]
    return JsonResponse(items, safe=False)


def _error(code: int, kind: str, message_ja: str, message_en: str) -> JsonResponse:
    return JsonResponse({"status": kind, "message_ja": message_ja, "message_en": message_en}, status=code)
