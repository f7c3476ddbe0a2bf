"""BibTeX reading and writing with bibtexparser 2."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import bibtexparser
import pandas as pd
from bibtexparser import middlewares

__all__ = ["iter_bibtex", "write_bibtex"]

_ENTRY_TYPES = {
    "article": "journal article",
    "inproceedings": "conference paper",
    "conference": "conference paper",
    "book": "book",
    "incollection": "book chapter",
    "inbook": "book chapter",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "techreport": "report",
    "misc": "generic",
    "unpublished": "unpublished work",
}
_TYPE_TO_ENTRY = {
    "journal article": "article",
    "conference paper": "inproceedings",
    "book": "book",
    "book chapter": "incollection",
    "thesis": "phdthesis",
    "report": "techreport",
}


def iter_bibtex(text: str) -> Iterator[dict[str, Any]]:
    """Yield drafts of the entries of a BibTeX file; broken entries yield a ``broken`` draft.

    LaTeX markup (accents, braces) is decoded to Unicode by bibtexparser's
    ``LatexDecodingMiddleware``; ``@string`` macros are resolved.
    """
    stack = [
        middlewares.ResolveStringReferencesMiddleware(True),
        middlewares.RemoveEnclosingMiddleware(True),
        middlewares.LatexDecodingMiddleware(True),
    ]
    # bibtexparser logs each block it cannot parse; the problems are reported per record here.
    logger = logging.getLogger("bibtexparser")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        library = bibtexparser.parse_string(text, parse_stack=stack)
    finally:
        logger.setLevel(previous)
    blocks = sorted(
        list(library.entries) + list(library.failed_blocks), key=lambda b: b.start_line or 0
    )
    for position, block in enumerate(blocks, start=1):
        if isinstance(block, bibtexparser.model.Entry):
            yield _entry_draft(block, position)
        else:
            line = (block.start_line or 0) + 1
            yield {"position": position, "broken": f"BibTeX entry at line {line} not readable"}


def _entry_draft(entry: Any, position: int) -> dict[str, Any]:
    fields = {key.lower(): str(field.value) for key, field in entry.fields_dict.items()}
    keywords = re.split(r"[;,]\s*", fields["keywords"]) if fields.get("keywords") else []
    return {
        "position": position,
        "title": _unbrace(fields.get("title")),
        "abstract": _unbrace(fields.get("abstract")),
        "authors": _unbrace(fields.get("author")) or [],
        "year": fields.get("year") or fields.get("date"),
        "journal": _unbrace(
            fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle")
        ),
        "volume": fields.get("volume"),
        "issue": fields.get("number") or fields.get("issue"),
        "pages": fields.get("pages"),
        "doi": [fields["doi"]] if fields.get("doi") else [],
        "doi_fallback": [fields.get("url", "")],
        "pmid": fields.get("pmid"),
        "issn": [fields["issn"]] if fields.get("issn") else [],
        "keywords": keywords,
        "language": fields.get("language"),
        "publication_type": _ENTRY_TYPES.get(entry.entry_type.lower(), entry.entry_type.lower()),
        "database": fields.get("database") or fields.get("source"),
        "raw": {"ENTRYTYPE": entry.entry_type, "ID": entry.key, **fields},
    }


def _unbrace(value: str | None) -> str | None:
    if value is None:
        return None
    return value.replace("{", "").replace("}", "")


def _escape(value: str) -> str:
    # Braces must balance inside a braced BibTeX value; unbalanced ones are dropped.
    depth = 0
    out: list[str] = []
    for char in value:
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                continue
            depth -= 1
        out.append(char)
    text = "".join(out) + "}" * depth
    return text.replace("\\", "\\textbackslash{}") if "\\" in text else text


def _bibtex_fields(row: pd.Series) -> list[tuple[str, str]]:
    pages = "--".join(p for p in (row.get("pages_start"), row.get("pages_end")) if _has(p))
    candidates = [
        ("author", " and ".join(row.get("authors") or [])),
        ("title", row.get("title")),
        ("journal", row.get("journal")),
        ("year", "" if pd.isna(row.get("year")) else str(int(row["year"]))),
        ("volume", row.get("volume")),
        ("number", row.get("issue")),
        ("pages", pages),
        ("doi", row.get("doi")),
        ("pmid", row.get("pmid")),
        ("issn", ", ".join(row.get("issn") or [])),
        ("keywords", "; ".join(row.get("keywords") or [])),
        ("language", row.get("language")),
        ("abstract", row.get("abstract")),
        ("database", row.get("database")),
    ]
    return [(key, _escape(str(value))) for key, value in candidates if _has(value)]


def _has(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and value != value:
        return False
    return str(value).strip() != ""


def write_bibtex(records: pd.DataFrame) -> str:
    """Return the records as BibTeX text; keys are ``r1``, ``r2``, ... in row order."""
    library = bibtexparser.Library()
    for number, (_, row) in enumerate(records.iterrows(), start=1):
        kind = _TYPE_TO_ENTRY.get(str(row.get("publication_type") or "").lower(), "article")
        fields = [bibtexparser.model.Field(k, v) for k, v in _bibtex_fields(row)]
        library.add(bibtexparser.model.Entry(kind, f"r{number}", fields))
    stack = [middlewares.AddEnclosingMiddleware(True, "{", "{", "{")]
    return str(bibtexparser.write_string(library, unparse_stack=stack))
