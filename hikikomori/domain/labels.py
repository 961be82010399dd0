"""Japanese and English labels for every vocabulary value: the one place people-facing names live."""

from dataclasses import dataclass
from enum import StrEnum

from hikikomori.domain.vocabulary import (
    FileOutcome,
    FileStep,
    Measure,
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
        FileStep.RECEIPT: Label("受領証", "receipt"),
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
}


def label(value: StrEnum) -> Label:
    """The labels of one vocabulary value (its enum class says which vocabulary)."""
    return LABELS[type(value)][value]
