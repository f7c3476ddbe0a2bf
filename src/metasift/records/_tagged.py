"""Readers of the tagged-line formats: RIS, Web of Science plain text and PubMed/MEDLINE.

The three formats share one shape: one field per line, a short tag at the start of the line,
continuation lines without a tag, and a tag that opens (and usually one that closes) a record.
One tokenizer reads all three; a table per format maps tags to record fields.

rispy is not used to read, although it is used to write RIS (see ``_write``): its line loop
drops a last record that lacks ``ER``, merges a record whose ``ER`` is missing into the one
before it (losing the second record) and accepts only the strict ``"TY  - "`` spacing, while
real exports do all three. MEDLINE tags have up to four letters, which rispy cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from sys import intern
from typing import Any

from metasift.records._normalise import normalise_doi
from metasift.records._text import iter_lines

__all__ = ["iter_medline", "iter_ris", "iter_wos", "medline_draft", "ris_draft", "wos_draft"]

# Tags of the RIS specification (RIS Format Specifications, Research Information Systems,
# 2012) and those the exporters add; a line "XX - value" with one space or none before the
# dash is taken as a tag line only for these, so that text lines of a note are not misread.
_RIS_TAGS = frozenset(
    [
        "TY",
        "ER",
        "ID",
        "T1",
        "TI",
        "CT",
        "BT",
        "T2",
        "T3",
        "TT",
        "A1",
        "AU",
        "A2",
        "A3",
        "A4",
        "AD",
        "AN",
        "AB",
        "N2",
        "N1",
        "KW",
        "Y1",
        "PY",
        "Y2",
        "DA",
        "DB",
        "DP",
        "DO",
        "JF",
        "JO",
        "JA",
        "J1",
        "J2",
        "VL",
        "IS",
        "CP",
        "SP",
        "EP",
        "SN",
        "CY",
        "PB",
        "UR",
        "L1",
        "L2",
        "L3",
        "L4",
        "LA",
        "LB",
        "M1",
        "M2",
        "M3",
        "C1",
        "C2",
        "C3",
        "C4",
        "C5",
        "C6",
        "C7",
        "C8",
        "ET",
        "NV",
        "OP",
        "RN",
        "RP",
        "SE",
        "ST",
        "U1",
        "U2",
        "U3",
        "U4",
        "U5",
        "CA",
        "CN",
        "LK",
        "NL",
        "AI",
        "PM",
        "XR",
    ]
)
_RIS_STRICT = re.compile(r"^([A-Z][A-Z0-9])  - ?(.*)$")
_RIS_LOOSE = re.compile(r"^\s{0,2}([A-Z][A-Z0-9])\s{0,3}-(?: (.*)|)$")
_WOS_LINE = re.compile(r"^([A-Z][A-Z0-9])(?: (.*)|)$")
_MEDLINE_LINE = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,3}- (.*)$")
# Tags whose continuation lines are further values rather than the rest of one value:
# EndNote writes one keyword per line under a single KW, Citavi one address per line.
_RIS_LINE_ITEMS = frozenset({"KW", "AU", "A1", "A2", "A3", "A4", "AD", "C3"})
_WOS_LINE_ITEMS = frozenset({"AU", "AF", "CR", "C1", "C3", "BE", "BF", "CA", "RI", "OI", "EM"})


@dataclass(frozen=True)
class _Syntax:
    start: str
    end: str | None
    line_items: frozenset[str]


_RIS = _Syntax("TY", "ER", _RIS_LINE_ITEMS)
_WOS = _Syntax("PT", "ER", _WOS_LINE_ITEMS)
_MEDLINE = _Syntax("PMID", None, frozenset())


_TAG_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TAG_SECOND = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _ris_tag(line: str) -> tuple[str | None, str]:
    # Most lines are strict "XX  - value" lines: sliced without a regular expression.
    if line[2:5] == "  -" and line[:1] in _TAG_FIRST and line[1:2] in _TAG_SECOND:
        return line[:2], line[5:].strip()
    match = _RIS_STRICT.match(line)
    if match:
        return match.group(1), (match.group(2) or "").strip()
    match = _RIS_LOOSE.match(line)
    if match and match.group(1) in _RIS_TAGS:
        return match.group(1), (match.group(2) or "").strip()
    return None, line.strip()


def _wos_tag(line: str) -> tuple[str | None, str]:
    if line.startswith((" ", "\t")):
        return None, line.strip()
    match = _WOS_LINE.match(line)
    if match:
        return match.group(1), (match.group(2) or "").strip()
    return None, line.strip()


def _medline_tag(line: str) -> tuple[str | None, str]:
    match = _MEDLINE_LINE.match(line)
    if match and not line.startswith(" "):
        return match.group(1), match.group(2).strip()
    return None, line.strip()


def _tokenize(text: str, syntax: _Syntax, tag_of: Any) -> Iterator[dict[str, Any]]:
    """Yield raw records: ``{"position", "line", "fields": {tag: [values]}, "problems"}``."""
    start_tag, end_tag, line_items = syntax.start, syntax.end, syntax.line_items
    strict = tag_of is _ris_tag
    record: dict[str, Any] | None = None
    fields: dict[str, list[str]] = {}
    last_tag: str | None = None
    position = number = 0
    for line in iter_lines(text):
        number += 1
        # The strict RIS line, by far the most common, is sliced here without a call.
        if strict and line[2:5] == "  -" and line[:1] in _TAG_FIRST and line[1:2] in _TAG_SECOND:
            tag: str | None = line[:2]
            value = line[5:].strip()
        else:
            tag, value = tag_of(line)
        if tag is not None:
            tag = intern(tag)  # one string per tag, not one per line
        if tag == start_tag:
            if record is not None:
                if end_tag:
                    message = f"no {end_tag} line before the next {start_tag} (line {number})"
                    record["problems"].append(("record", message))
                yield record
            position += 1
            fields = {tag: [value]}
            record = {"position": position, "line": number, "fields": fields, "problems": []}
            last_tag = tag
            continue
        if record is None:
            continue  # preamble, numbering ("1."), link lines between records
        if tag is not None:
            if tag == end_tag:
                yield record
                record, last_tag = None, None
                continue
            if tag in fields:
                fields[tag].append(value)
            else:
                fields[tag] = [value]
            last_tag = tag
        elif value and last_tag is not None:
            values = fields[last_tag]
            if last_tag in line_items or not values[-1]:
                values.append(value)
            else:
                values[-1] = f"{values[-1]} {value}"
    if record is not None:
        if end_tag:
            record["problems"].append(("record", f"file ends before the {end_tag} line"))
        yield record


def _clean_problems(record: dict[str, Any]) -> list[tuple[str, str]]:
    return list(record["problems"])


def iter_ris(text: str) -> Iterator[dict[str, Any]]:
    """Yield RIS records as raw tag dicts (see :func:`ris_draft`)."""
    return _tokenize(text, _RIS, _ris_tag)


def iter_wos(text: str) -> Iterator[dict[str, Any]]:
    """Yield Web of Science plain-text (FN/VR/PT/ER) records as raw tag dicts."""
    return _tokenize(text, _WOS, _wos_tag)


def iter_medline(text: str) -> Iterator[dict[str, Any]]:
    """Yield PubMed/MEDLINE (.nbib) records as raw tag dicts."""
    return _tokenize(text, _MEDLINE, _medline_tag)


def _first(fields: dict[str, list[str]], *tags: str) -> str | None:
    for tag in tags:
        for value in fields.get(tag, ()):
            if value:
                return value
    return None


def _all(fields: dict[str, list[str]], *tags: str) -> list[str]:
    # Values are stripped when read, so an empty value is the empty string.
    return [v for tag in tags for v in fields.get(tag, ()) if v]


# Readable names of RIS reference types (RIS specification, table of TY values).
RIS_TYPES = {
    "JOUR": "journal article",
    "JFULL": "journal article",
    "EJOUR": "journal article",
    "ABST": "abstract",
    "CONF": "conference proceedings",
    "CPAPER": "conference paper",
    "BOOK": "book",
    "EBOOK": "book",
    "CHAP": "book chapter",
    "ECHAP": "book chapter",
    "THES": "thesis",
    "RPRT": "report",
    "GEN": "generic",
    "ELEC": "web page",
    "NEWS": "newspaper article",
    "MGZN": "magazine article",
    "PAT": "patent",
    "CASE": "case",
    "DATA": "dataset",
    "SER": "serial",
    "STAND": "standard",
    "UNPB": "unpublished work",
    "INPR": "in press",
}
_RIS_DOI_FALLBACK = ("UR", "L1", "L2", "L3", "L4", "M3", "N1")
_PMID_NOTE = re.compile(r"\bPMID:?\s*(?:NLM)?(\d{1,9})\b", re.I)
_PUBMED_SOURCE = re.compile(r"pubmed|medline|nlm", re.I)
_EMBASE = re.compile(r"embase", re.I)


def _ris_pmid(fields: dict[str, list[str]]) -> str | None:
    pmid = _first(fields, "PM")
    if pmid:
        return pmid
    source = " ".join(_all(fields, "DB", "DP"))
    accession = _first(fields, "AN")
    if accession and accession.strip().isdigit() and _PUBMED_SOURCE.search(source):
        return accession
    if _EMBASE.search(source):
        embase_pmid = _first(fields, "C5")
        if embase_pmid and embase_pmid.strip().isdigit():
            return embase_pmid
    for note in _all(fields, "N1", "M2", "AN", "U1", "U2", "C2"):
        match = _PMID_NOTE.search(note)
        if match:
            return match.group(1)
    return None


def _ris_type(fields: dict[str, list[str]]) -> str | None:
    kind = _first(fields, "M3")
    # Ovid puts a subject classification in M3 ("... [3300]"); only short kinds are types.
    if kind and len(kind) <= 40 and not re.search(r"[\[\]\d]", kind):
        return kind
    code = (_first(fields, "TY") or "").strip().upper()
    return RIS_TYPES.get(code, code or None)


def ris_draft(record: dict[str, Any]) -> dict[str, Any]:
    """Map a raw RIS record to a draft of the record table.

    Notes
    -----
    Tags per field, first non-empty wins: title TI, T1, CT, BT, ST; abstract AB, N2;
    authors AU, A1; year PY, Y1, DA, Y2; journal JF, T2, JO, JA, J2, J1, BT; volume VL;
    issue IS, CP; pages SP (a range is split), EP; DOI DO, then a DOI inside UR, L1-L4, M3, N1;
    PMID PM, AN when DB/DP names PubMed or MEDLINE, C5 in Embase, ``PMID: n`` in notes;
    ISSN SN; keywords KW; language LA; type M3 when it is a kind, else TY.
    """
    fields: dict[str, list[str]] = record["fields"]
    doi = _all(fields, "DO")[:1]
    return {
        "position": record["position"],
        "title": _first(fields, "TI", "T1", "CT", "BT", "ST"),
        "abstract": _first(fields, "AB", "N2"),
        "authors": _all(fields, "AU") or _all(fields, "A1"),
        "year": _first(fields, "PY", "Y1", "DA", "Y2"),
        "journal": _first(fields, "JF", "T2", "JO", "JA", "J2", "J1"),
        "volume": _first(fields, "VL"),
        "issue": _first(fields, "IS", "CP"),
        "pages_start": _first(fields, "SP"),
        "pages_end": _first(fields, "EP"),
        "doi": doi,
        # Searched only when DO holds no DOI.
        "doi_fallback": () if doi and normalise_doi(doi[0]) else _all(fields, *_RIS_DOI_FALLBACK),
        "pmid": _ris_pmid(fields),
        "issn": _all(fields, "SN"),
        "keywords": _all(fields, "KW"),
        "language": _first(fields, "LA"),
        "publication_type": _ris_type(fields),
        "database": _first(fields, "DB", "DP"),
        "raw": fields,
        "problems": _clean_problems(record),
    }


def wos_draft(record: dict[str, Any]) -> dict[str, Any]:
    """Map a raw Web of Science record (plain text or tab-delimited row) to a draft.

    Notes
    -----
    Field tags of the Web of Science Core Collection field list: TI title, AB abstract,
    AF/AU authors, PY year, SO source, VL, IS, BP/EP pages (AR article number), DI DOI,
    PM PubMed ID, SN/EI ISSN, DE/ID keywords, LA language, DT document type, UT accession.
    """
    fields: dict[str, list[str]] = record["fields"]
    authors = _all(fields, "AF") or _all(fields, "AU")
    if len(authors) == 1 and ";" in authors[0]:
        authors = [a for a in authors[0].split(";") if a.strip()]
    keywords = [k for v in _all(fields, "DE", "ID") for k in v.split(";")]
    return {
        "position": record["position"],
        "title": _first(fields, "TI"),
        "abstract": _first(fields, "AB"),
        "authors": authors,
        "year": _first(fields, "PY", "EA", "PD"),
        "journal": _first(fields, "SO", "SE", "J9", "JI"),
        "volume": _first(fields, "VL"),
        "issue": _first(fields, "IS"),
        "pages_start": _first(fields, "BP", "AR"),
        "pages_end": _first(fields, "EP"),
        "doi": _all(fields, "DI")[:1],
        "doi_fallback": _all(fields, "D2"),
        "pmid": _first(fields, "PM"),
        "issn": _all(fields, "SN", "EI"),
        "keywords": keywords,
        "language": _first(fields, "LA"),
        "publication_type": _first(fields, "DT") or _first(fields, "PT"),
        "database": "Web of Science",
        "raw": fields,
        "problems": _clean_problems(record),
    }


def medline_draft(record: dict[str, Any]) -> dict[str, Any]:
    """Map a raw PubMed/MEDLINE record to a draft.

    Notes
    -----
    MEDLINE/PubMed data element descriptions (NLM): PMID, TI (BTI for books), AB,
    FAU/AU and CN (group author), DP date, JT/TA journal, VI volume, IP issue, PG pages,
    LID/AID with ``[doi]``, IS ISSN, MH/OT keywords, LA language, PT publication type.
    """
    fields: dict[str, list[str]] = record["fields"]
    doi = [v for v in _all(fields, "LID", "AID") if v.endswith("[doi]")]
    return {
        "position": record["position"],
        "title": _first(fields, "TI", "BTI"),
        "abstract": _first(fields, "AB"),
        "authors": (_all(fields, "FAU") or _all(fields, "AU")) + _all(fields, "CN"),
        "year": _first(fields, "DP", "DEP", "PHST"),
        "journal": _first(fields, "JT", "TA"),
        "volume": _first(fields, "VI"),
        "issue": _first(fields, "IP"),
        "pages": _first(fields, "PG"),
        "doi": doi[:1],
        "pmid": _first(fields, "PMID"),
        "issn": _all(fields, "IS"),
        "keywords": _all(fields, "MH", "OT"),
        "language": _first(fields, "LA"),
        "publication_type": _first(fields, "PT"),
        "database": "PubMed",
        "raw": fields,
        "problems": _clean_problems(record),
    }
