"""The portal's vocabularies (codes stored and sent by the API) and their Japanese and English labels."""

from enum import StrEnum

from hikikomori.domain.labels import Label


class Role(StrEnum):
    """What an account may see: its own center, or every center (the ministry)."""

    CENTER = "center"
    MINISTRY = "ministry"


class Verdict(StrEnum):
    """The portal's judgement of an upload, by the same rules as the pre-check and the run."""

    PASSED = "passed"  # no rule broken: handed over to the pipeline
    REFUSED = "refused"  # a rule broken: kept with its problems, never handed over


class UploadStatus(StrEnum):
    """An upload's status in the API (CONTRACT.md §4)."""

    SUBMITTED = "submitted"  # handed over, waiting for the pipeline
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class YearStatus(StrEnum):
    """Where a center stands for one fiscal year, as its pages show it."""

    MISSING = "missing"
    PENDING = "pending"  # an upload waits for the next run
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # only rejected files so far


class Via(StrEnum):
    WEB = "web"
    API = "api"


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKED_OUT = "locked_out"
    LOGOUT = "logout"
    UPLOAD = "upload"
    UPLOAD_FORBIDDEN = "upload_forbidden"  # a file of another center
    COMMENT = "comment"
    DOWNLOAD = "download"
    API_DENIED = "api_denied"  # a request without a valid token
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_CHANGED = "account_changed"
    ACCOUNT_DISABLED = "account_disabled"
    ACCOUNT_DELETED = "account_deleted"
    PASSWORD_SET = "password_set"
    TOKEN_ISSUED = "token_issued"


LABELS: dict[type[StrEnum], dict[StrEnum, Label]] = {
    Role: {Role.CENTER: Label("センター", "center"), Role.MINISTRY: Label("厚生労働省", "ministry")},
    Verdict: {Verdict.PASSED: Label("受付", "passed"), Verdict.REFUSED: Label("不備あり", "refused")},
    UploadStatus: {
        UploadStatus.SUBMITTED: Label("受付済み・集計待ち", "submitted"),
        UploadStatus.ACCEPTED: Label("取込済み", "accepted"),
        UploadStatus.DUPLICATE: Label("取込済みと同じ内容", "duplicate"),
        UploadStatus.REJECTED: Label("差戻し", "rejected"),
    },
    YearStatus: {
        YearStatus.MISSING: Label("未提出", "missing"),
        YearStatus.PENDING: Label("受付済み・集計待ち", "waiting for the next run"),
        YearStatus.ACCEPTED: Label("取込済み", "accepted"),
        YearStatus.REJECTED: Label("差戻し", "rejected"),
    },
    Via: {Via.WEB: Label("画面", "web"), Via.API: Label("API", "API")},
    AuditAction: {
        AuditAction.LOGIN: Label("ログイン", "login"),
        AuditAction.LOGIN_FAILED: Label("ログイン失敗", "login failed"),
        AuditAction.LOCKED_OUT: Label("ログイン停止", "locked out"),
        AuditAction.LOGOUT: Label("ログアウト", "logout"),
        AuditAction.UPLOAD: Label("提出", "upload"),
        AuditAction.UPLOAD_FORBIDDEN: Label("他団体のファイル", "upload of another center's file"),
        AuditAction.COMMENT: Label("確認コメント", "comment"),
        AuditAction.DOWNLOAD: Label("ダウンロード", "download"),
        AuditAction.API_DENIED: Label("API 認証失敗", "API token refused"),
        AuditAction.ACCOUNT_CREATED: Label("アカウント作成", "account created"),
        AuditAction.ACCOUNT_CHANGED: Label("アカウント変更", "account changed"),
        AuditAction.ACCOUNT_DISABLED: Label("アカウント停止", "account disabled"),
        AuditAction.ACCOUNT_DELETED: Label("アカウント削除", "account deleted"),
        AuditAction.PASSWORD_SET: Label("パスワード設定", "password set"),
        AuditAction.TOKEN_ISSUED: Label("APIトークン発行", "API token issued"),
    },
}


def label(value: StrEnum) -> Label:
    return LABELS[type(value)][value]


def choices(vocabulary: type[StrEnum]) -> list[tuple[str, str]]:
    """Django field choices: the code, shown as its Japanese and English labels."""
    return [(member.value, label(member).both) for member in vocabulary]
