"""Japanese and English labels for every vocabulary value: the one place people-facing names live."""

from dataclasses import dataclass
from enum import StrEnum

from hikikomori.domain.vocabulary import (
    DeadlineSource,
    FileOutcome,
    FileStep,
    FiscalYearAction,
    Measure,
    PlausibilityRule,
    QualityOutcome,
    RunStatus,
    SubmissionStatus,
    Target,
    TargetStatus,
)


@dataclass(frozen=True)
class Label:
    ja: str
    en: str

    @property
    def both(self) -> str:
        """``達成 pass``: Japanese first, the code-like English after it."""
        return f"{self.ja} {self.en}"


# Per vocabulary: StrEnum members equal their text, so ``FileOutcome.ACCEPTED`` and
# ``SubmissionStatus.ACCEPTED`` would be the same key of one dict.
LABELS: dict[type[StrEnum], dict[StrEnum, Label]] = {
    Measure: {
        Measure.CONSULTATIONS: Label("延べ相談件数", "consultations"),
        Measure.REFERRALS: Label("関係機関につないだ件数", "referrals"),
        Measure.SUPPORTER_ACTIVITIES: Label("ひきこもりサポーターの活動件数", "supporter activities"),
    },
    FileOutcome: {
        FileOutcome.ACCEPTED: Label("取込", "accepted"),
        FileOutcome.REJECTED: Label("差戻し", "rejected"),
        FileOutcome.DUPLICATE: Label("重複", "duplicate"),
        FileOutcome.DEFERRED: Label("保留", "deferred"),
        FileOutcome.GONE: Label("消失", "gone"),
    },
    FileStep: {
        FileStep.LIST: Label("一覧", "list"),
        FileStep.READ: Label("読込", "read"),
        FileStep.PARSE: Label("解析", "parse"),
        FileStep.VALIDATE: Label("検査", "validate"),
        FileStep.STORE: Label("保管", "store"),
        FileStep.RECORD: Label("記録", "record"),
        FileStep.REMOVE: Label("削除", "remove"),
    },
    Target: {
        Target.REFERRALS_PER_CENTER: Label("関係機関につないだ件数", "referrals per center"),
        Target.SUPPORTER_ACTIVITIES: Label("サポーター活動件数", "supporter activities"),
    },
    TargetStatus: {
        TargetStatus.PASS: Label("達成", "pass"),
        TargetStatus.FAIL: Label("未達", "fail"),
        TargetStatus.NO_BASELINE: Label("前年度なし", "no_baseline"),
    },
    SubmissionStatus: {
        SubmissionStatus.ACCEPTED: Label("受理", "accepted"),
        SubmissionStatus.REJECTED: Label("差戻しのみ", "rejected"),
        SubmissionStatus.MISSING: Label("未提出", "missing"),
    },
    QualityOutcome: {
        QualityOutcome.PASS: Label("合格", "pass"),
        QualityOutcome.FAIL: Label("不合格", "fail"),
        QualityOutcome.ERROR: Label("エラー", "error"),
    },
    RunStatus: {
        RunStatus.RUNNING: Label("実行中", "running"),
        RunStatus.COMPLETED: Label("完了", "completed"),
        RunStatus.FAILED: Label("失敗", "failed"),
    },
    FiscalYearAction: {
        FiscalYearAction.CLOSE_YEAR: Label("確定（公表）", "closed (published)"),
        FiscalYearAction.ACCEPT_REVISION: Label("修正の採用", "revision accepted"),
        FiscalYearAction.REOPEN_YEAR: Label("確定の解除", "reopened"),
    },
    DeadlineSource: {
        DeadlineSource.DEFAULT: Label("既定（年度終了後の6月30日）", "default (30 June after the year ends)"),
        DeadlineSource.CALENDAR: Label("期限表による", "from the deadline calendar"),
    },
    PlausibilityRule: {
        PlausibilityRule.CHANGE_FROM_PREVIOUS_YEAR: Label(
            "前年度からの大きな変化", "large change from the previous year"
        ),
        PlausibilityRule.REFERRALS_EXCEED_CONSULTATIONS: Label(
            "紹介件数が相談件数を上回る", "referrals exceed consultations"
        ),
        PlausibilityRule.REFERRAL_RATE_OUTLIER: Label(
            "相談1件あたりの紹介件数が他のセンターから大きく離れている",
            "referrals per consultation far from other centers",
        ),
    },
}


def label(value: StrEnum) -> Label:
    """The labels of one vocabulary value (its enum class says which vocabulary)."""
    return LABELS[type(value)][value]
