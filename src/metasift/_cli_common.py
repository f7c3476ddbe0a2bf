"""Helpers shared by the command-line modules: error handling, opening the review,
tables and JSON output."""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from metasift.errors import MetasiftError

if TYPE_CHECKING:
    from metasift.review import Review

__all__ = ["AsJson", "Folder", "handles_errors"]


F = TypeVar("F", bound=Callable[..., Any])
Folder = Annotated[
    Path, typer.Option("--folder", "-C", help="Review folder (default: the current folder).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _console() -> Console:
    # Made per command, so that output goes to the stream in use (CliRunner replaces it).
    return Console(soft_wrap=False, width=120 if not sys.stdout.isatty() else None)


def _fail(message: str) -> None:
    console = Console(stderr=True, soft_wrap=True)
    console.print(f"[red]Error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code=1)


def handles_errors(function: F) -> F:
    """Turn metasift's errors (user mistakes) into a message and exit code 1."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except MetasiftError as error:
            _fail(str(error))
        return None

    return wrapper  # type: ignore[return-value]


@contextmanager
def _review(folder: Path) -> Iterator[Review]:
    from metasift.review import Review

    review = Review.open(folder)
    try:
        yield review
    finally:
        review.close()


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return value


def _print_json(data: Any) -> None:
    if isinstance(data, pd.DataFrame):
        data = [{k: _plain(v) for k, v in row.items()} for row in data.to_dict("records")]
    typer.echo(json.dumps(data, indent=2, default=_json_default, ensure_ascii=False))


def _json_default(value: Any) -> Any:
    # NumPy scalars become numbers (json would otherwise write them as strings).
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _table(frame: pd.DataFrame, title: str = "") -> Table:
    table = Table(title=title or None, show_lines=False)
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            value = _plain(value)
            if isinstance(value, float):
                cells.append(Text(f"{value:.3f}"))
            else:
                cells.append(Text("" if value is None else str(value)))
        table.add_row(*cells)
    return table
