"""Progress bars for long imports and deduplications (rich), silent for short ones."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["AUTO_PROGRESS", "Steps", "progress_steps"]

#: Record count from which ``progress=None`` shows a bar (when stderr is a terminal).
AUTO_PROGRESS = 100_000


class Steps:
    """Named steps with a total each; ``advance`` moves the current one."""

    def __init__(self, bar: Any = None) -> None:
        self._bar = bar
        self._task: Any = None

    def start(self, description: str, total: float | None = None) -> None:
        """Begin a step (the previous one is marked complete)."""
        if self._bar is None:
            return
        if self._task is not None:
            self._bar.update(self._task, completed=self._bar.tasks[self._task].total)
        self._task = self._bar.add_task(description, total=total)

    def advance(self, amount: float = 1) -> None:
        """Move the current step forward."""
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, amount)


@contextmanager
def progress_steps(show: bool | None, size: int) -> Iterator[Steps]:
    """Yield :class:`Steps` drawing a bar on stderr when ``show`` (or, when ``show`` is
    None, for ``size >= AUTO_PROGRESS`` on an interactive terminal)."""
    if show is None:
        show = size >= AUTO_PROGRESS and sys.stderr.isatty()
    if not show:
        yield Steps()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        steps = Steps(bar)
        yield steps
        steps.start("done", total=1)
        steps.advance()
