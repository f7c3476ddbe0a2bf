"""Readers of PubMed XML and EndNote XML exports (lxml, streaming with ``iterparse``)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree

__all__ = ["iter_endnote_xml", "iter_pubmed_xml"]

_PUBMED_TAGS = ("PubmedArticle", "PubmedBookArticle")


def _text(element: Any) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _texts(elements: Any) -> list[str]:
    return [t for t in (_text(e) for e in elements) if t]


def _iter_xml(
    data: bytes, tags: tuple[str, ...], draft_of: Callable[[Any, int], dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Stream the elements named ``tags``; a broken file yields what precedes the break.

    External entities and network access are off, so that an export cannot make the
    reader fetch or read other files.
    """
    parser_events = etree.iterparse(
        io.BytesIO(data),
        events=("end",),
        tag=tags,
        recover=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=True,
    )
    position = 0
    try:
        for _, element in parser_events:
            position += 1
            yield draft_of(element, position)
            element.clear(keep_tail=False)
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as error:
        yield {"position": position + 1, "broken": f"XML ends or breaks here: {error}"}


def iter_pubmed_xml(data: bytes) -> Iterator[dict[str, Any]]:
    """Yield drafts of PubmedArticle and PubmedBookArticle elements."""
    return _iter_xml(data, _PUBMED_TAGS, _pubmed_draft)


def _pubmed_authors(article: Any) -> list[str]:
    names: list[str] = []
    for author in article.iterfind(".//AuthorList/Author"):
        collective = _text(author.find("CollectiveName"))
        last = _text(author.find("LastName"))
        if last:
            given = _text(author.find("Initials")) or _text(author.find("ForeName")) or ""
            names.append(f"{last}, {given}".strip(", "))
        elif collective:
            names.append(collective)
    return names


def _pubmed_year(article: Any) -> str | None:
    for path in (
        ".//JournalIssue/PubDate/Year",
        ".//JournalIssue/PubDate/MedlineDate",
        ".//Book/PubDate/Year",
        ".//ArticleDate/Year",
        ".//PubDate/Year",
    ):
        value = _text(article.find(path))
        if value:
            return value
    return None


def _pubmed_pages(article: Any) -> dict[str, str | None]:
    medline_pages = _text(article.find(".//Pagination/MedlinePgn"))
    if medline_pages:
        return {"pages": medline_pages}
    return {
        "pages_start": _text(article.find(".//Pagination/StartPage")),
        "pages_end": _text(article.find(".//Pagination/EndPage")),
    }


def _pubmed_draft(element: Any, position: int) -> dict[str, Any]:
    """Map one PubMed XML article (PubMed DTD ``pubmed_250101``) to a draft."""
    doi = _texts(element.iterfind(".//ArticleIdList/ArticleId[@IdType='doi']"))
    doi += _texts(element.iterfind(".//ELocationID[@EIdType='doi']"))
    abstract = " ".join(_texts(element.iterfind(".//Abstract/AbstractText")))
    keywords = _texts(element.iterfind(".//MeshHeading/DescriptorName"))
    keywords += _texts(element.iterfind(".//KeywordList/Keyword"))
    draft: dict[str, Any] = {
        "position": position,
        "title": _text(element.find(".//ArticleTitle")) or _text(element.find(".//BookTitle")),
        "abstract": abstract or None,
        "authors": _pubmed_authors(element),
        "year": _pubmed_year(element),
        "journal": _text(element.find(".//Journal/Title"))
        or _text(element.find(".//Journal/ISOAbbreviation")),
        "volume": _text(element.find(".//JournalIssue/Volume")),
        "issue": _text(element.find(".//JournalIssue/Issue")),
        "doi": doi[:1],
        "pmid": _text(element.find(".//PMID")),
        "issn": _texts(element.iterfind(".//Journal/ISSN")),
        "keywords": keywords,
        "language": _text(element.find(".//Language")),
        "publication_type": _text(element.find(".//PublicationType")),
        "database": "PubMed",
        "raw": {"xml": etree.tostring(element, encoding="unicode")},
    }
    draft.update(_pubmed_pages(element))
    return draft


def iter_endnote_xml(data: bytes) -> Iterator[dict[str, Any]]:
    """Yield drafts of the ``record`` elements of an EndNote XML export."""
    return _iter_xml(data, ("record",), _endnote_draft)


def _endnote_draft(element: Any, position: int) -> dict[str, Any]:
    """Map one EndNote XML record (EndNote's RSXML DTD, ``xml/records/record``) to a draft.

    Notes
    -----
    title ``titles/title``; journal ``periodical/full-title``, else ``titles/secondary-title``,
    else ``alt-periodical`` / ``titles/alt-title``; DOI ``electronic-resource-num``; PMID
    ``accession-num`` when the remote database is PubMed/MEDLINE; ISSN ``isbn``;
    type ``ref-type/@name`` (``work-type`` is kept in ``raw``).
    """
    source = " ".join(
        _texts(element.iterfind("remote-database-name"))
        + _texts(element.iterfind("remote-database-provider"))
    )
    accession = _text(element.find("accession-num"))
    pmid = accession if accession and accession.isdigit() and _is_pubmed(source) else None
    ref_type = element.find("ref-type")
    raw = {child.tag: _text(child) for child in element if child.tag not in ("contributors",)}
    return {
        "position": position,
        "title": _text(element.find("titles/title")),
        "abstract": _text(element.find("abstract")),
        "authors": _texts(element.iterfind("contributors/authors/author")),
        "year": _text(element.find("dates/year")) or _text(element.find("dates/pub-dates/date")),
        "journal": _text(element.find("periodical/full-title"))
        or _text(element.find("titles/secondary-title"))
        or _text(element.find("alt-periodical/full-title"))
        or _text(element.find("titles/alt-title")),
        "volume": _text(element.find("volume")),
        "issue": _text(element.find("number")) or _text(element.find("issue")),
        "pages": _text(element.find("pages")),
        "doi": _texts(element.iterfind("electronic-resource-num"))[:1],
        "doi_fallback": _texts(element.iterfind("urls/related-urls/url")),
        "pmid": pmid,
        "issn": _texts(element.iterfind("isbn")),
        "keywords": _texts(element.iterfind("keywords/keyword")),
        "language": _text(element.find("language")),
        "publication_type": ref_type.get("name") if ref_type is not None else None,
        "database": source or None,
        "raw": raw,
    }


def _is_pubmed(source: str) -> bool:
    lowered = source.lower()
    return any(word in lowered for word in ("pubmed", "medline", "nlm"))
