"""Accounts: created from the command line (``hikikomori users``) or the admin page; API tokens.

A center account belongs to exactly one center of the registry; a ministry account sees every center.
Passwords are stored only as Argon2id hashes, API tokens only as SHA-256 hashes.
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from hikikomori.domain.reference import ReferenceData
from hikikomori.portal import audit
from hikikomori.portal.models import User
from hikikomori.portal.vocabulary import AuditAction, Role

TOKEN_PREFIX = "hkk_"
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I
_GENERATED_PASSWORD_LENGTH = 16
_SYSTEM_ACTOR = "hikikomori-cli"


class AccountError(ValueError):
    """A request about accounts that cannot be done, with a message for the person who asked."""


@dataclass(frozen=True)
class AccountRow:
    username: str
    role: str
    center_code: str
    center_name: str
    active: bool
    admin: bool
    has_token: bool
    last_login: str


def generate_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_GENERATED_PASSWORD_LENGTH))


def check_center(reference: ReferenceData, center_code: str) -> None:
    if center_code not in reference.centers:
        raise AccountError(
            f"団体コード {center_code} はセンター名簿にありません / {center_code} is not in the registry"
        )


def create_account(
    reference: ReferenceData,
    username: str,
    *,
    center_code: str | None = None,
    password: str | None = None,
    admin: bool = False,
    actor: str = _SYSTEM_ACTOR,
) -> tuple[User, str | None]:
    """A new account; returns it and the generated password (None when one was given)."""
    if center_code is not None:
        check_center(reference, center_code)
        if admin:
            raise AccountError("管理者はセンターのアカウントにできません / a center account cannot be an admin")
    if User.objects.filter(username=username).exists():
        raise AccountError(f"ユーザー名 {username} は既にあります / user {username} already exists")
    user = User(
        username=username,
        role=Role.CENTER if center_code is not None else Role.MINISTRY,
        center_code=center_code or "",
        is_staff=admin,
        is_superuser=admin,
    )
    try:
        User._meta.get_field("username").run_validators(username)
    except ValidationError as error:
        raise AccountError(f"使えないユーザー名です / invalid user name: {' '.join(error.messages)}") from error
    generated = None
    if password is None:
        password = generated = generate_password()
    _check_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        user.save()
        audit.record(
            AuditAction.ACCOUNT_CREATED,
            username=actor,
            account=username,
            role=user.role,
            center_code=user.center_code,
            admin=admin,
        )
    return user, generated


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise AccountError("パスワードが弱すぎます / password too weak: " + " ".join(error.messages)) from error


def issue_token(username: str, *, actor: str = _SYSTEM_ACTOR) -> str:
    """A new API token for the account; the previous one stops working. Only its hash is stored."""
    user = _get(username)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        user.api_token_hash = token_hash(token)
        user.api_token_created_at = timezone.now()
        user.save(update_fields=["api_token_hash", "api_token_created_at"])
        audit.record(AuditAction.TOKEN_ISSUED, username=actor, account=username)
    return token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_for_token(token: str) -> User | None:
    """The active account this token belongs to, if any."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    return User.objects.filter(api_token_hash=token_hash(token), is_active=True).first()


def disable_account(username: str, *, actor: str = _SYSTEM_ACTOR) -> None:
    """The account can no longer log in or use its token; its open sessions end now."""
    user = _get(username)
    with transaction.atomic():
        user.is_active = False
        user.api_token_hash = None
        user.save(update_fields=["is_active", "api_token_hash"])
        end_sessions(user)
        audit.record(AuditAction.ACCOUNT_DISABLED, username=actor, account=username)


def end_sessions(user: User) -> None:
    """Delete every stored session of this user (the session table is small: one row per login)."""
    for session in Session.objects.filter(expire_date__gt=timezone.now()):
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()


def list_accounts(reference: ReferenceData) -> list[AccountRow]:
    return [
        AccountRow(
            user.username,
            user.role,
            user.center_code,
            reference.centers[user.center_code].center_name if user.center_code in reference.centers else "",
            user.is_active,
            user.is_superuser,
            user.api_token_hash is not None,
            timezone.localtime(user.last_login).strftime("%Y-%m-%d %H:%M") if user.last_login else "",
        )
        for user in User.objects.order_by("role", "center_code", "username")
    ]


def _get(username: str) -> User:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise AccountError(f"ユーザー {username} はありません / no user {username}") from None
