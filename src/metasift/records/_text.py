"""Decoding export files: byte-order marks, UTF-8/UTF-16, cp1252/latin-1, line ends."""

from __future__ import annotations

import codecs
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["decode", "iter_lines", "no_gc", "split_lines"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LINE_END = re.compile(r"\r\n|\r|\n")


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used) for the bytes of an export.

    Notes
    -----
    Order of attempts: the caller's ``encoding``; a byte-order mark (Web of Science writes
    UTF-16 with a BOM, EndNote and Excel write UTF-8 with one); UTF-16 without BOM when
    every other byte of the start is NUL; UTF-8; cp1252 (older Ovid, EBSCO and EndNote exports
    on Windows); latin-1, which decodes any byte, as the last resort. NUL characters left after
    decoding are removed because no bibliographic field can hold them.

    Examples
    --------
    >>> decode("Müller".encode("cp1252"))
    ('Müller', 'cp1252')
    >>> decode(codecs.BOM_UTF8 + b"TY  - JOUR")
    ('TY  - JOUR', 'utf-8-sig')
    """
    if encoding is not None:
        return data.decode(encoding, errors="replace").lstrip("\ufeff").replace(
            "\x00", ""
        ), encoding
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name, errors="replace").lstrip("\ufeff").replace("\x00", ""), name
    head = data[:200]
    if len(head) >= 4 and head[1::2].count(0) > 0.8 * len(head[1::2]):
        return data.decode("utf-16-le", errors="replace").replace("\x00", ""), "utf-16-le"
    for name in ("utf-8", "cp1252"):
        try:
            return data.decode(name).replace("\x00", ""), name
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1").replace("\x00", ""), "latin-1"


def split_lines(text: str) -> list[str]:
    """Split on CRLF, CR or LF only (``str.splitlines`` would also split on form feeds etc.).

    Examples
    --------
    >>> split_lines("a\\r\\nb\\rc\\nd")
    ['a', 'b', 'c', 'd']
    """
    return _LINE_END.split(text)


def iter_lines(text: str, chunk: int = 1 << 24) -> Iterator[str]:
    """Yield the lines of ``text`` like :func:`split_lines`, a chunk of about ``chunk``
    characters at a time, so that a large export is never held twice as a list of lines.

    Examples
    --------
    >>> list(iter_lines("a\\nb\\nc", chunk=1))
    ['a', 'b', 'c']
    """
    if "\r" in text:
        yield from split_lines(text)
        return
    start = 0
    while start <= len(text):
        end = text.find("\n", start + chunk)
        if end < 0:
            yield from text[start:].split("\n")
            return
        yield from text[start:end].split("\n")
        start = end + 1


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while many records are built.

    Reading or deduplicating builds millions of small dicts, lists and tuples that hold no
    reference cycles; each collection would walk all of them again, which costs about as
    much as the reading itself. Reference counting still frees memory as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
