"""Keeping Python's garbage collector off what a run holds for its whole length.

A run imports Prefect, pandas and DuckDB (objects that live as long as the process), then holds every
file it read and validated until it ends. Each of Python's full collections looks at all of them again,
and a run of thousands of files triggers many: the run spent a measurable part of each file's time in
them (``docs/performance.md``). ``gc.freeze`` moves every object alive at that moment out of the
collector's sight. Nothing is kept longer for it: an object is still freed when nothing refers to it;
only a reference cycle among frozen objects waits for ``gc.unfreeze``, which gives them all back to the
collector when the run ends.

The imports themselves are made with the collector paused (``collector_paused``), and what they made
is frozen right after: importing Prefect, pandas and DuckDB creates a few hundred thousand objects, all
kept, and the collector's full passes over them while they were being made found a few dozen to free
(unfrozen, the first collections after the pause would walk them all instead). The run's imports took
0.97–1.00 s with it and 0.82–0.83 s without; the temporary server's (``flows/temporary_server.py``)
2.1–2.3 s and 1.6 s.
"""

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# While a run lasts, the youngest generation is collected after this many new containers, not 700.
RUN_YOUNG_GENERATION_THRESHOLD = 20_000


@contextmanager
def run_objects_frozen() -> Iterator[Callable[[], None]]:
    """Freeze what is alive now; inside, call the yielded function to freeze what a step produced too.

    Inside, the collector also looks at new objects less often (``RUN_YOUNG_GENERATION_THRESHOLD``): a
    step builds containers by the hundred thousand (a row's values, a file's receipt, frames' parts),
    each kept until the step's result is made, and every look at the youngest generation walked those
    made since the last: 604 looks in a run of 10,000 files, 49 with 20,000 (counted with
    ``gc.callbacks``). Cycles are still found, only later; the thresholds are as they were after the
    run, however it ends.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], RUN_YOUNG_GENERATION_THRESHOLD), *thresholds[1:])
    try:
        yield gc.freeze
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off inside (imports: what they make is kept), and as it was again after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
