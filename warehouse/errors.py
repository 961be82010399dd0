"""Which failures of a step a retry can fix: the warehouse briefly locked or busy, a passing I/O error.

A bad SQL model, a missing table or a bug fails the same way every time: retrying it only delays
the run's failure and hides its cause behind "retried twice".
"""

import duckdb

# OSError: a file or folder briefly unavailable. duckdb.IOException: among others "Could not set lock
# on file" while another process holds the warehouse. duckdb.TransactionException: a write-write
# conflict between transactions ("Conflict on tuple deletion!").
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (OSError, duckdb.IOException, duckdb.TransactionException)


def retry_can_fix(error: BaseException) -> bool:
    """True for an I/O, lock or transaction-conflict error, also when it is the cause of the one raised."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, RETRYABLE_ERRORS):
            return True
        cause = cause.__cause__
    return False
