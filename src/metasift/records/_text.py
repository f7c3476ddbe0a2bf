"""Decoding export files: byte-order marks, UTF-8/UTF-16, cp1252/latin-1, line ends."""

from __future__ import annotations

import codecs
import re

__all__ = ["decode", "split_lines"]

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
