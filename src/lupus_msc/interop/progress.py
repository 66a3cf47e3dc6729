"""How a long export reports its progress, and how it is told to stop.

An export knows its steps before it starts (reading the keys, each batch of patients, writing
the files) and hands them to a ``Progress``, which returns the callback that moves to the next
step and the one that closes the display. The command line draws a progress bar with them; a
web export job records the step and raises ``Cancelled`` from the callback once the job is
deleted, which stops the export between two batches.
"""

from __future__ import annotations

from collections.abc import Callable

Advance = Callable[[str], None]
"""Move to the named step."""
Progress = Callable[[tuple[str, ...]], tuple[Advance, Callable[[], None]]]
"""Given the steps, the callbacks that advance a progress display and close it."""


class Cancelled(Exception):
    """The export was cancelled between two steps."""


def silent(_steps: tuple[str, ...]) -> tuple[Advance, Callable[[], None]]:
    """No display."""
    return (lambda _step: None), (lambda: None)


def batch_steps(patients: int, batch_size: int, label: str = "patients") -> tuple[str, ...]:
    """One step per batch of ``batch_size`` patients, named by the patients done after it
    (one step when there are none)."""
    count = max(1, -(-patients // batch_size))
    return tuple(f"{label} {min(i * batch_size, patients):,}" for i in range(1, count + 1))
