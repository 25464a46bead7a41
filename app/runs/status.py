"""The statuses of a run, and which of them can train again."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    PAUSED = "paused"
    RUNNING = "running"
    FINISHED = "finished"  # max_steps reached
    STOPPED = "stopped"
    DIVERGED = "diverged"
    INTERRUPTED = "interrupted"  # its training ended unexpectedly: the server or worker went down
    FAILED = "failed"  # its training raised (a bug, or past its memory limit): see `message`


# Statuses from which a run can train again (an interrupted run restores its last snapshot).
TRAINABLE = frozenset({RunStatus.PAUSED, RunStatus.INTERRUPTED})
