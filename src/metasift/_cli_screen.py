"""Interactive parts of the command line: screening one reviewer at a time, the arbiter's
conflict loop and the duplicate queue. Single keys are read with ``typer.getchar`` (which
``typer.testing.CliRunner`` feeds from its input); an empty key means the input ended.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from metasift.errors import InputError

if TYPE_CHECKING:
    from metasift.review import Review

__all__ = ["dedup_loop", "keyword_pattern", "resolve_loop", "screen_loop"]

_KEYS = {"i": "include", "e": "exclude", "m": "maybe"}


def keyword_pattern(words: Sequence[str]) -> str | None:
    """A case-insensitive regex for protocol keywords; a trailing ``*`` matches any ending.

    Examples
    --------
    >>> import re
    >>> pattern = keyword_pattern(["random*", "trial"])
    >>> re.findall(pattern, "A randomised controlled Trial; trials")
    ['randomised', 'Trial']
    """
    parts = []
    for word in words:
        word = word.strip()
        if not word:
            continue
        stem = re.escape(word.rstrip("*"))
        parts.append(stem + (r"\w*" if word.endswith("*") else ""))
    if not parts:
        return None
    return r"(?i)\b(?:" + "|".join(parts) + r")\b"


def _highlight(text: str, review: Review) -> Text:
    shown = Text(text)
    keywords = review.protocol.eligibility.keywords
    for words, style in ((keywords.include, "bold green"), (keywords.exclude, "bold red")):
        pattern = keyword_pattern(words)
        if pattern:
            shown.highlight_regex(pattern, style=style)
    return shown


def _card(row: Any, review: Review, position: str) -> Panel:
    body = Text()
    body.append_text(_highlight(str(row.title or "(no title)"), review))
    body.append("\n")
    authors = "; ".join(row.authors or []) if isinstance(row.authors, list) else ""
    meta = ", ".join(str(x) for x in (authors, row.journal, row.year) if x not in (None, ""))
    body.append(meta + "\n\n", style="dim")
    body.append_text(_highlight(str(row.abstract or "(no abstract)"), review))
    if isinstance(row.flag, str) and row.flag:
        body.append(f"\n\nPre-screening proposal: {row.flag}", style="yellow")
    title = f"{position}  record {row.record_id} · {row.database}"
    return Panel(
        body, title=title, subtitle=escape("[i]nclude  [e]xclude  [m]aybe  [s]kip  [q]uit")
    )


def _key(console: Console, allowed: str) -> str:
    while True:
        key = typer.getchar().lower()
        if key == "" or key in allowed:
            return key
        console.print(f"Press one of: {', '.join(allowed)}")


def pick_reason(console: Console, reasons: Sequence[str], required: bool) -> str | None:
    """Show the numbered reasons and read one (a digit, or a number and Enter past 9)."""
    if not reasons:
        return None
    for number, reason in enumerate(reasons, start=1):
        console.print(f"  {number}. {reason}")
    if len(reasons) <= 9:
        allowed = "".join(str(n) for n in range(1, len(reasons) + 1)) + ("" if required else "0")
        if not required:
            console.print("  0. no reason")
        key = _key(console, allowed)
        if key in ("", "0"):
            return None
        return reasons[int(key) - 1]
    lowest = 1 if required else 0
    while True:
        number = typer.prompt("Reason number", type=int)
        if lowest <= number <= len(reasons):
            return None if number == 0 else reasons[number - 1]
        console.print(f"Give a number from {lowest} to {len(reasons)}")


def screen_loop(console: Console, review: Review, reviewer: str, stage: str) -> dict[str, int]:
    """Show each record of the reviewer's queue and record the keys pressed."""
    queue = review.queue(reviewer, stage)
    settings = review.protocol.stage(stage)
    assert settings is not None
    done = {"include": 0, "exclude": 0, "maybe": 0, "skip": 0}
    if queue.empty:
        console.print(f"Nothing left for {reviewer} at {stage}.")
        return done
    for index, row in enumerate(queue.itertuples(index=False), start=1):
        console.print(_card(row, review, f"[{index}/{len(queue)}]"))
        key = _key(console, "iemsq")
        if key in ("", "q"):
            break
        if key == "s":
            done["skip"] += 1
            continue
        decision = _KEYS[key]
        reason = None
        if decision == "exclude":
            reason = pick_reason(console, settings.reasons, required=stage == "full_text")
        review.decide(reviewer, int(row.record_id), decision, stage, reason, origin="cli")
        done[decision] += 1
    left = len(review.queue(reviewer, stage))
    console.print(
        f"Recorded {done['include']} include, {done['exclude']} exclude, {done['maybe']} maybe; "
        f"skipped {done['skip']}; {left} records left for {reviewer}."
    )
    return done


def _conflict_card(record_id: int, rows: pd.DataFrame) -> Panel:
    body = Text(str(rows["title"].iloc[0] or "(no title)") + "\n\n")
    for row in rows.itertuples(index=False):
        reason = f" ({row.reason})" if isinstance(row.reason, str) and row.reason else ""
        note = f" - {row.note}" if row.note else ""
        body.append(f"{row.reviewer}: {row.decision}{reason}{note}\n")
    return Panel(
        body, title=f"record {record_id}", subtitle=escape("[i]nclude  [e]xclude  [s]kip  [q]uit")
    )


def resolve_loop(console: Console, review: Review, arbiter: str, stage: str) -> int:
    """Go through the conflicts of a stage: a key for the decision, then a note."""
    table = review.conflicts(stage)
    settings = review.protocol.stage(stage)
    assert settings is not None
    resolved = 0
    for record_id, rows in table.groupby("record_id", sort=True):
        console.print(_conflict_card(int(record_id), rows))
        key = _key(console, "iesq")
        if key in ("", "q"):
            break
        if key == "s":
            continue
        decision = _KEYS[key]
        reason = None
        if decision == "exclude":
            reason = pick_reason(console, settings.reasons, required=stage == "full_text")
        note = typer.prompt("Note", default="", show_default=False).strip()
        if not note:
            raise InputError("the arbiter's decision needs a note; nothing recorded")
        review.resolve(int(record_id), decision, arbiter, note, stage, reason)
        resolved += 1
    left = review.conflicts(stage)["record_id"].nunique()
    console.print(f"Resolved {resolved} conflicts; {left} left at {stage}.")
    return resolved


def dedup_loop(console: Console, review: Review, by: str) -> int:
    """Ask about each possible duplicate pair: y (same record), n (two records), s, q."""
    queue = review.dedup_queue()
    answered = 0
    for row in queue.itertuples(index=False):
        console.print(
            Panel(
                Text(
                    f"{row.record_id_1}: {row.title_1}\n{row.record_id_2}: {row.title_2}\n\n"
                    f"score {row.score:.2f}: {row.reason}"
                ),
                title="Possible duplicates",
                subtitle=escape("[y] same record  [n] different  [s]kip  [q]uit"),
            )
        )
        key = _key(console, "ynsq")
        if key in ("", "q"):
            break
        if key == "s":
            continue
        review.resolve_duplicate(int(row.record_id_1), int(row.record_id_2), key == "y", by)
        answered += 1
    console.print(f"Answered {answered} pairs; {len(review.dedup_queue())} left.")
    return answered
