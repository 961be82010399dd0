"""The portal's own state (SQLite beside the warehouse): accounts, uploads with their bytes, the audit log."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models

from hikikomori.portal.vocabulary import AuditAction, Role, Verdict, Via, choices


class User(AbstractUser):
    """A person (or a machine client) at one center, or at the ministry."""

    role = models.CharField("役割 / role", max_length=16, choices=choices(Role))
    center_code = models.CharField("団体コード / center", max_length=6, blank=True, default="")
    # SHA-256 of the API token: the token itself is shown once and never stored.
    api_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    api_token_created_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "アカウント / account"
        constraints = (
            models.CheckConstraint(
                name="center_account_has_one_center",
                condition=(models.Q(role=Role.CENTER) & ~models.Q(center_code=""))
                | (models.Q(role=Role.MINISTRY) & models.Q(center_code="")),
            ),
        )

    @property
    def is_center(self) -> bool:
        return self.role == Role.CENTER

    @property
    def is_ministry(self) -> bool:
        return self.role == Role.MINISTRY


class Upload(models.Model):
    """One file uploaded, passed or refused: never changed after the verdict except for the comment."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="uploads")
    center_code = models.CharField(max_length=6, db_index=True)  # the uploading account's center
    fiscal_year = models.IntegerField(null=True)  # from the file name (or its content)
    file_name = models.CharField(max_length=255)  # as uploaded: shown, never used as a path
    sha256 = models.CharField(max_length=64)
    size_bytes = models.IntegerField()
    uploaded_at = models.DateTimeField(db_index=True)
    via = models.CharField(max_length=8, choices=choices(Via))
    verdict = models.CharField(max_length=16, choices=choices(Verdict))
    issues = models.JSONField(default=list)  # Issue records (schemas.rules)
    warnings = models.JSONField(default=list)  # PlausibilityWarning records
    totals = models.JSONField(default=dict)  # measure → total read from the file (passed uploads)
    handed_over_at = models.DateTimeField(null=True)  # written into the inbox
    comment = models.TextField(blank=True, default="")  # the center confirming figures a warning questioned
    commented_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = verbose_name_plural = "提出 / upload"
        ordering = ("-uploaded_at",)

    @property
    def passed(self) -> bool:
        return self.verdict == Verdict.PASSED


class UploadContent(models.Model):
    """The uploaded bytes, apart from the record so that lists never load them."""

    upload = models.OneToOneField(Upload, on_delete=models.PROTECT, primary_key=True, related_name="content")
    data = models.BinaryField()


class AuditEvent(models.Model):
    """Who did what, when, from where: logins (ok and failed), uploads, downloads, account changes."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=32, choices=choices(AuditAction))
    username = models.CharField(max_length=150, blank=True, default="")  # the actor, or the name tried
    center_code = models.CharField(max_length=6, blank=True, default="")
    address = models.GenericIPAddressField(null=True)
    detail = models.JSONField(default=dict)

    class Meta:
        verbose_name = verbose_name_plural = "監査ログ / audit log"
        ordering = ("-at",)
