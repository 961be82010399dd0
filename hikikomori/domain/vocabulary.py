"""The project's closed vocabularies: every code that is stored, shown or compared is one of these.

Values are the codes CONTRACT.md fixes (they appear in the warehouse and the API); Japanese and
English labels for people live in ``hikikomori.domain.labels``, one place for all of them.
"""

from enum import StrEnum


class Measure(StrEnum):
    """What a center reports (CONTRACT.md §1 ``measure``)."""

    CONSULTATIONS = "consultations"
    REFERRALS = "referrals"
    SUPPORTER_ACTIVITIES = "supporter_activities"


class FileOutcome(StrEnum):
    """What became of one file taken from the inbox."""

    ACCEPTED = "accepted"  # a new version of its center and fiscal year
    REJECTED = "rejected"  # quarantined with its error report
    DUPLICATE = "duplicate"  # identical to the latest accepted version: nothing new
    DEFERRED = "deferred"  # left in the inbox for a later run, with its reason (e.g. still being written)
    GONE = "gone"  # no longer in the inbox when the run came to read it (moved or deleted meanwhile)


class FileStep(StrEnum):
    """The steps a run takes with each file; a failure of any of them is that file's outcome alone."""

    LIST = "list"  # finding it in the inbox (listing a folder)
    READ = "read"  # its status and bytes
    PARSE = "parse"  # decoding its bytes into a table (text encoding, CSV, the workbook's zip and XML)
    VALIDATE = "validate"  # the rules
    STORE = "store"  # its copy in the archive or quarantine, with the error report
    RECORD = "record"  # its receipt, version and rows in the warehouse
    REMOVE = "remove"  # taking it out of the inbox


class Target(StrEnum):
    """The outcome targets (成果目標) judged every fiscal year."""

    REFERRALS_PER_CENTER = "referrals_per_center"
    SUPPORTER_ACTIVITIES = "supporter_activities"


class TargetStatus(StrEnum):
    """A target's verdict for one fiscal year."""

    PASS = "pass"
    FAIL = "fail"
    NO_BASELINE = "no_baseline"


class SubmissionStatus(StrEnum):
    """Where a center stands for one fiscal year (``marts.submission_status``)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"  # only rejected files arrived
    MISSING = "missing"


class QualityOutcome(StrEnum):
    """The result of one data-quality check."""

    PASS = "pass"
    FAIL = "fail"  # the data broke the expectation
    ERROR = "error"  # the check itself raised


class RunStatus(StrEnum):
    """A pipeline run in ``ops.pipeline_runs``."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class FiscalYearAction(StrEnum):
    """The ministry's decisions on a fiscal year (CONTRACT.md §5; ``raw.fiscal_year_decisions``)."""

    CLOSE_YEAR = "close_year"  # publish the year: the versions that count now stay
    ACCEPT_REVISION = "accept_revision"  # a center's latest (late) version of a closed year counts from now on
    REOPEN_YEAR = "reopen_year"  # the year counts the latest versions again


class DeadlineSource(StrEnum):
    """Where a fiscal year's submission deadline comes from."""

    DEFAULT = "default"  # 30 June after the year ends
    CALENDAR = "calendar"  # a deadline calendar the ministry gave (stored in raw.deadline_calendar)


class PlausibilityRule(StrEnum):
    """Warnings on accepted figures: worth a second look, never a rejection."""

    CHANGE_FROM_PREVIOUS_YEAR = "change_from_previous_year"
    REFERRALS_EXCEED_CONSULTATIONS = "referrals_exceed_consultations"
    REFERRAL_RATE_OUTLIER = "referral_rate_outlier"  # far from the other centers of the same year
