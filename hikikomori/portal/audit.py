"""The audit log: one row per login (ok or failed), logout, upload, download and account change."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from hikikomori.portal.models import AuditEvent, User
from hikikomori.portal.vocabulary import AuditAction


def record(
    action: AuditAction,
    *,
    request: HttpRequest | None = None,
    user: User | None = None,
    username: str = "",
    **detail: Any,
) -> AuditEvent:
    """Write one event; the actor is ``user`` (or the request's user), else the ``username`` given."""
    if user is None and request is not None and getattr(request, "user", None) is not None:
        user = request.user if request.user.is_authenticated else None
    return AuditEvent.objects.create(
        action=action,
        username=user.username if user is not None else username[:150],
        center_code=user.center_code if user is not None else "",
        address=_address(request),
        detail=detail,
    )


def _address(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") or None if request is not None else None


def _logged_in(sender: object, request: HttpRequest, user: User, **kwargs: object) -> None:
    record(AuditAction.LOGIN, request=request, user=user)


def _logged_out(sender: object, request: HttpRequest, user: User | None, **kwargs: object) -> None:
    if user is not None:
        record(AuditAction.LOGOUT, request=request, user=user)


def _login_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: object
) -> None:
    # Django has already masked the password in ``credentials``; only the name tried is kept.
    record(AuditAction.LOGIN_FAILED, request=request, username=str(credentials.get("username", "")))


def _locked_out(sender: object, request: HttpRequest, username: str, ip_address: str, **kwargs: object) -> None:
    record(AuditAction.LOCKED_OUT, request=request, username=username or "")


def connect_signals() -> None:
    from axes.signals import user_locked_out

    user_logged_in.connect(_logged_in, dispatch_uid="hikikomori_portal_login")
    user_logged_out.connect(_logged_out, dispatch_uid="hikikomori_portal_logout")
    user_login_failed.connect(_login_failed, dispatch_uid="hikikomori_portal_login_failed")
    user_locked_out.connect(_locked_out, dispatch_uid="hikikomori_portal_locked_out")
