"""Hypothesis strategies of normalised records and writers of the formats metasift only reads.

The writers follow the exporters' documented layouts (MEDLINE/PubMed data element
descriptions, PubMed DTD, EndNote RSXML, Web of Science field tags, Scopus CSV headers), so
that every reader can be checked on generated files.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import strategies as st

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüøçñ"
_TEXT = _LETTERS + "0123456789 .,:-()'?"

words = st.text(alphabet=_LETTERS, min_size=2, max_size=10)
text = (
    st.text(alphabet=_TEXT, min_size=1, max_size=60)
    .map(lambda s: " ".join(s.split()))
    .filter(lambda s: any(ch.isalpha() for ch in s))
)
surnames = st.text(alphabet=_LETTERS[:52], min_size=2, max_size=12).map(str.capitalize)
initials = st.text(alphabet="ABCDEFGHIJKLMNOPRSTUVWZ", min_size=1, max_size=2)
authors = st.lists(st.builds(lambda s, i: f"{s}, {i}", surnames, initials), max_size=4)
digits = st.integers(min_value=1, max_value=9999).map(str)


@st.composite
def pages(draw: Any) -> tuple[str | None, str | None]:
    if draw(st.booleans()):
        return None, None
    first = draw(st.integers(min_value=1, max_value=5000))
    last = first + draw(st.integers(min_value=0, max_value=50))
    return str(first), str(last)


@st.composite
def records(draw: Any) -> dict[str, Any]:
    """One normalised record (values as ``read_records`` returns them)."""
    start, end = draw(pages())
    optional = st.one_of(st.none(), text)
    return {
        "title": draw(text),
        "abstract": draw(optional),
        "authors": draw(authors),
        "year": draw(st.one_of(st.none(), st.integers(min_value=1900, max_value=2030))),
        "journal": draw(optional),
        "volume": draw(st.one_of(st.none(), digits)),
        "issue": draw(st.one_of(st.none(), digits)),
        "pages_start": start,
        "pages_end": end,
        "doi": draw(
            st.one_of(
                st.none(),
                st.builds(
                    lambda a, b: f"10.{a}/{b}".lower(),
                    st.integers(min_value=1000, max_value=99999),
                    st.text(
                        alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=12
                    ).filter(lambda s: s[-1] not in ".-"),
                ),
            )
        ),
        "pmid": draw(st.one_of(st.none(), st.integers(min_value=1, max_value=40_000_000).map(str))),
        "keywords": draw(st.lists(words, max_size=3, unique=True)),
    }


def medline_text(recs: list[dict[str, Any]]) -> str:
    """PubMed 'PubMed format' (.nbib): 4-character tags, 6-space continuation lines."""
    blocks = []
    for number, r in enumerate(recs, start=1):
        lines = [f"PMID- {r['pmid'] or number}", f"TI  - {r['title']}"]
        lines += [f"FAU - {a}" for a in r["authors"]]
        if r["year"]:
            lines.append(f"DP  - {r['year']} Jan")
        if r["journal"]:
            lines.append(f"JT  - {r['journal']}")
        if r["volume"]:
            lines.append(f"VI  - {r['volume']}")
        if r["pages_start"]:
            lines.append(f"PG  - {r['pages_start']}-{r['pages_end']}")
        if r["doi"]:
            lines.append(f"LID - {r['doi']} [doi]")
        if r["abstract"]:
            first, _, rest = r["abstract"].partition(" ")
            lines.append(f"AB  - {first}")
            if rest:
                lines.append(f"      {rest}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def wos_text(recs: list[dict[str, Any]]) -> str:
    """Web of Science plain text: FN/VR header, PT ... ER records, EF."""
    out = ["FN Clarivate Analytics Web of Science", "VR 1.0"]
    for r in recs:
        out.append("PT J")
        for k, a in enumerate(r["authors"]):
            out.append(("AU " if k == 0 else "   ") + a)
        out.append(f"TI {r['title']}")
        for tag, key in (("SO", "journal"), ("PY", "year"), ("VL", "volume"), ("IS", "issue")):
            if r[key]:
                out.append(f"{tag} {r[key]}")
        if r["pages_start"]:
            out += [f"BP {r['pages_start']}", f"EP {r['pages_end']}"]
        if r["doi"]:
            out.append(f"DI {r['doi']}")
        if r["pmid"]:
            out.append(f"PM {r['pmid']}")
        out.append("ER")
        out.append("")
    out.append("EF")
    return "\n".join(out) + "\n"


def _styled(value: str) -> str:
    return f'<style face="normal" font="default" size="100%">{escape(value)}</style>'


def endnote_xml(recs: list[dict[str, Any]]) -> bytes:
    """EndNote XML (RSXML): xml/records/record with styled text."""
    parts = ['<?xml version="1.0" encoding="UTF-8" ?><xml><records>']
    for number, r in enumerate(recs, start=1):
        authors = "".join(f"<author>{_styled(a)}</author>" for a in r["authors"])
        parts.append(
            f"<record><rec-number>{number}</rec-number>"
            '<ref-type name="Journal Article">17</ref-type>'
            f"<contributors><authors>{authors}</authors></contributors>"
            f"<titles><title>{_styled(r['title'])}</title>"
            + (
                f"<secondary-title>{_styled(r['journal'])}</secondary-title>"
                if r["journal"]
                else ""
            )
            + "</titles>"
            + (f"<volume>{_styled(r['volume'])}</volume>" if r["volume"] else "")
            + (
                f"<pages>{_styled(r['pages_start'] + '-' + r['pages_end'])}</pages>"
                if r["pages_start"]
                else ""
            )
            + (f"<dates><year>{_styled(str(r['year']))}</year></dates>" if r["year"] else "")
            + (
                f"<electronic-resource-num>{_styled(r['doi'])}</electronic-resource-num>"
                if r["doi"]
                else ""
            )
            + "</record>"
        )
    parts.append("</records></xml>")
    return "".join(parts).encode("utf-8")


def pubmed_xml(recs: list[dict[str, Any]]) -> bytes:
    """PubMed XML (PubmedArticleSet DTD)."""
    parts = ["<?xml version='1.0' encoding='UTF-8'?><PubmedArticleSet>"]
    for number, r in enumerate(recs, start=1):
        authors = "".join(
            f"<Author><LastName>{escape(a.split(', ')[0])}</LastName>"
            f"<Initials>{a.split(', ')[1]}</Initials></Author>"
            for a in r["authors"]
        )
        year = f"<PubDate><Year>{r['year']}</Year></PubDate>" if r["year"] else "<PubDate/>"
        volume = f"<Volume>{r['volume']}</Volume>" if r["volume"] else ""
        journal = f"<Title>{escape(r['journal'])}</Title>" if r["journal"] else ""
        pages = (
            f"<Pagination><MedlinePgn>{r['pages_start']}-{r['pages_end']}</MedlinePgn></Pagination>"
            if r["pages_start"]
            else ""
        )
        doi = f'<ELocationID EIdType="doi">{r["doi"]}</ELocationID>' if r["doi"] else ""
        parts.append(
            f"<PubmedArticle><MedlineCitation><PMID>{r['pmid'] or number}</PMID><Article>"
            f"<Journal><JournalIssue>{volume}{year}</JournalIssue>{journal}</Journal>"
            f"<ArticleTitle>{escape(r['title'])}</ArticleTitle>{pages}{doi}"
            f"<AuthorList>{authors}</AuthorList></Article></MedlineCitation></PubmedArticle>"
        )
    parts.append("</PubmedArticleSet>")
    return "".join(parts).encode("utf-8")


def scopus_csv(recs: list[dict[str, Any]]) -> str:
    """Scopus CSV export (columns of Scopus' 'CSV export' with semicolon author lists)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(
        [
            "Authors",
            "Title",
            "Year",
            "Source title",
            "Volume",
            "Issue",
            "Page start",
            "Page end",
            "DOI",
            "Link",
            "PubMed ID",
            "Source",
            "EID",
        ]
    )
    for number, r in enumerate(recs, start=1):
        writer.writerow(
            [
                "; ".join(r["authors"]),
                r["title"],
                r["year"] or "",
                r["journal"] or "",
                r["volume"] or "",
                r["issue"] or "",
                r["pages_start"] or "",
                r["pages_end"] or "",
                r["doi"] or "",
                "https://www.scopus.com/",
                r["pmid"] or "",
                "Scopus",
                f"2-s2.0-{number}",
            ]
        )
    return buffer.getvalue()
