"""The portal's forms: every field labelled in Japanese first, English after."""

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm


class UploadForm(forms.Form):
    file = forms.FileField(
        label="提出ファイル（.xlsx または .csv）/ submission file",
        help_text="ファイル名は 団体コード_年度（例: 130001_2016.xlsx）/ named like 130001_2016.xlsx",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


class CommentForm(forms.Form):
    comment = forms.CharField(
        label="確認コメント / comment",
        help_text="注意の出た数値が正しい理由を書いてください（例: 相談窓口を増設したため）/ why the figures are right",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BilingualPasswordChangeForm(PasswordChangeForm):
    """Django's password change, with labels in both languages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "現在のパスワード / current password"
        self.fields["new_password1"].label = "新しいパスワード / new password"
        self.fields["new_password2"].label = "新しいパスワード（確認）/ the new password again"
