"""Line numbers of the keys of a TOML file, so that protocol errors can name their line.

:mod:`tomllib` returns values without positions. This scanner reads the text once and
records, for every table header and every ``key = value`` line, the dotted path of the key
and its 1-based line. Array tables (``[[databases]]``) get their index as a path part, as
pydantic reports them (``("databases", 0, "name")``).
"""

from __future__ import annotations

import re

__all__ = ["key_lines", "line_of"]

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_KEY = rf"(?:{_BARE}|{_QUOTED})(?:\s*\.\s*(?:{_BARE}|{_QUOTED}))*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_KEY})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_KEY})\s*=")


def _split_key(text: str) -> list[str]:
    parts = re.findall(rf"{_BARE}|{_QUOTED}", text)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def _open_brackets(value: str) -> int:
    """Net number of ``[``/``{`` opened by a value, outside strings and comments."""
    depth, quote, i = 0, "", 0
    while i < len(value):
        char = value[i]
        if quote:
            if char == "\\" and quote == '"':
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        i += 1
    return depth


def key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map every table and key path of a TOML text to the 1-based line that defines it.

    Examples
    --------
    >>> lines = key_lines('title = "x"\\n[[db]]\\nname = "a"\\n[[db]]\\nname = "b"\\n')
    >>> lines[("db", 1, "name")], lines[("title",)]
    (5, 1)
    """
    found: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    counts: dict[tuple[str | int, ...], int] = {}
    depth, multiline = 0, ""
    for number, line in enumerate(text.splitlines(), start=1):
        if multiline:
            if line.count(multiline) % 2 == 1:
                multiline = ""
            continue
        if depth > 0:
            depth += _open_brackets(line)
            continue
        header = _HEADER.match(line)
        if header:
            path: tuple[str | int, ...] = tuple(_split_key(header.group(2)))
            if header.group(1) == "[[":
                index = counts.get(path, -1) + 1
                counts[path] = index
                path = (*path, index)
            table = path
            found.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            found.setdefault((*table, *_split_key(assign.group(1))), number)
            value = line[assign.end() :]
            for quote in ('"""', "'''"):
                if value.count(quote) % 2 == 1:
                    multiline = quote
            depth = _open_brackets(value)
    return found


def line_of(lines: dict[tuple[str | int, ...], int], loc: tuple[str | int, ...]) -> int:
    """Line of ``loc``, or of its nearest enclosing key or table; 0 when none is in the file.

    Examples
    --------
    >>> line_of({("a",): 2, ("a", "b"): 3}, ("a", "b", 0))
    3
    >>> line_of({("a",): 2}, ("z",))
    0
    """
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 0
