"""The one boundary around every step a run takes with one file.

Each per-file step (list, read, parse, validate, store, record, receipt, remove) runs through
``contained``: whatever it raises becomes that file's outcome, never the run's failure. The step
decides which: a file whose bytes cannot be decoded or parsed is quarantined (``file_unreadable``,
naming the error); a file the run cannot open, store or record, or the system fails to check, stays in
the inbox with its reason and is tried again next run; after a file is recorded, a receipt that cannot
be written or a removal that fails is reported beside its outcome.

Only ``Exception`` is contained: a stop request (SIGTERM, Ctrl-C) still stops the run.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from hikikomori.domain.text import printable
from hikikomori.domain.vocabulary import FileStep
from hikikomori.schemas.rules import Issue

T = TypeVar("T")
_MAX_DESCRIPTION = 300  # characters of an error's text kept in a message

# The rule whose message reports a failure of each step (its Rule.outcome says where the file stays).
STEP_RULES = {
    FileStep.LIST: "file_inaccessible",
    FileStep.READ: "file_inaccessible",
    FileStep.PARSE: "file_unreadable",
    FileStep.VALIDATE: "file_not_checked",
    FileStep.STORE: "file_not_stored",
    FileStep.RECORD: "file_not_recorded",
    FileStep.REMOVE: "file_not_removed",
}


@dataclass(frozen=True)
class StepFailure:
    """A step that raised on one file, and what the file's report says about it."""

    step: FileStep
    error: Exception

    @property
    def rule(self) -> str:
        if self.step in (FileStep.LIST, FileStep.READ) and isinstance(self.error, FileNotFoundError):
            return "file_vanished"  # listed, then gone before it was read: someone moved or deleted it
        return STEP_RULES[self.step]

    def issue(self, file_name: str) -> Issue:
        return Issue(file_name, self.rule, value=f"{self.step}: {describe_error(self.error)}")


def contained(step: FileStep, action: Callable[[], T]) -> T | StepFailure:
    """``action()``, or the StepFailure that turns what it raised into this one file's outcome."""
    try:
        return action()
    except Exception as error:  # deliberately any error: one file never stops the run
        return StepFailure(step, error)


def describe_error(error: BaseException) -> str:
    """An error as one printable line naming its type: ``zlib.error: Error -3 while decompressing data``."""
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    text = printable(" ".join(str(error).split()))
    if len(text) > _MAX_DESCRIPTION:
        text = text[: _MAX_DESCRIPTION - 1] + "…"
    return f"{name}: {text}" if text else name
