"""Normalisation of single bibliographic fields: authors, DOI, PMID, ISSN, year, pages.

Each function takes the text an exporter wrote and returns the normalised value, or ``None``
when the text holds no usable value. None of them raises on odd input: the readers report
unusable values as per-record problems instead.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "clean_text",
    "find_doi",
    "fold",
    "normalise_author",
    "normalise_doi",
    "normalise_issn",
    "normalise_pages",
    "normalise_pmid",
    "normalise_year",
    "split_authors",
    "undo_spreadsheet_date",
]

_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"</?(?:i|b|em|strong|sup|sub|u|sc|span|mml:[a-z]+|scp)\b[^>]*>", re.I)
# A DOI is "10." + registrant code + "/" + suffix (DOI Handbook, section 2.2). The suffix may
# hold almost any printable character, so it ends at white space or at a closing quote/bracket.
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"'<>\]]+", re.I)
_DOI_PREFIX = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/|^doi:\s*", re.I)
_ISSN = re.compile(r"(?<![\dX])(\d{4})-?(\d{3}[\dXx])(?![\dX])")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_PMID = re.compile(r"(?<!\d)(\d{1,9})(?!\d)")
_GROUP = re.compile(
    r"\b(?:group|investigators?|collaborat\w*|consortium|committee|society|association|"
    r"network|team|working|trialists|council|organi[sz]ation)\b",
    re.I,
)
_NOT_WORD = re.compile(r"[^\w\s]|_")
_ASCII_PUNCTUATION = str.maketrans(
    {chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c).isspace())}
)
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "2nd", "3rd"}


def clean_text(value: object) -> str | None:
    """Collapse white space, decode HTML entities and drop inline markup; ``None`` if empty.

    Examples
    --------
    >>> clean_text("  A  <i>title</i>\\n with &amp; spaces ")
    'A title with & spaces'
    >>> clean_text("   ") is None
    True
    """
    if value is None:
        return None
    if type(value) is str:
        text = value
    elif isinstance(value, float) and value != value:  # NaN from pandas
        return None
    else:
        text = str(value)
    if "<" in text:
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    # str.split() splits on the same white space as the regular expression \s+, faster.
    cleaned = " ".join(text.split())
    return (text if cleaned == text else cleaned) or None


def normalise_doi(value: object) -> str | None:
    """Return the DOI in lower case without URL or ``doi:`` prefix, or ``None``.

    DOIs are case-insensitive (DOI Handbook, section 2.4), so lower case makes them comparable.

    Examples
    --------
    >>> normalise_doi("https://doi.org/10.1002/JTS.22387.")
    '10.1002/jts.22387'
    >>> normalise_doi("10.1161/STROKEAHA.118.021126 [doi]")
    '10.1161/strokeaha.118.021126'
    >>> normalise_doi("not a doi") is None
    True
    """
    text = clean_text(value)
    if text is None:
        return None
    text = _DOI_PREFIX.sub("", text)
    match = _DOI.search(text)
    if match is None:
        return None
    return match.group(0).rstrip(".,;:)").lower()


def find_doi(values: Iterable[object]) -> str | None:
    """Return the first DOI found in any of ``values`` (URLs, notes, identifiers)."""
    for value in values:
        text = clean_text(value)
        if text and "10." in text:
            doi = normalise_doi(text.replace("%2F", "/").replace("%2f", "/"))
            if doi:
                return doi
    return None


def normalise_pmid(value: object) -> str | None:
    """Return a PubMed identifier as a string of digits, or ``None``.

    Accepts the forms exporters write: ``"12345678"``, ``"PUBMED 12345678"`` (Cochrane
    Library), ``"12345678 (PMID)"``, ``"NLM12345678"`` (CINAHL notes).

    Examples
    --------
    >>> normalise_pmid("PUBMED 23803397")
    '23803397'
    >>> normalise_pmid("n/a") is None
    True
    """
    text = clean_text(value)
    if text is None:
        return None
    match = _PMID.search(text)
    if match is None or int(match.group(1)) == 0:
        return None
    return str(int(match.group(1)))


def normalise_issn(values: Iterable[object]) -> list[str]:
    """Return every ISSN in ``values`` as ``"1234-567X"``, without repeats, in order met.

    Examples
    --------
    >>> normalise_issn(["03064530 (ISSN)", "0894-9867, 0894-9867", "1941014x"])
    ['0306-4530', '0894-9867', '1941-014X']
    """
    found: list[str] = []
    for value in values:
        text = clean_text(value)
        if text is None:
            continue
        for first, second in _ISSN.findall(text):
            issn = f"{first}-{second.upper()}"
            if issn not in found:
                found.append(issn)
    return found


def normalise_year(value: object) -> int | None:
    """Return the first plausible publication year (1500-2099) in ``value``, or ``None``.

    Examples
    --------
    >>> normalise_year("2019//"), normalise_year("2011 Jun 5"), normalise_year("n.d.")
    (2019, 2011, None)
    """
    text = clean_text(value)
    if text is None:
        return None
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def normalise_pages(start: object, end: object = None) -> tuple[str | None, str | None]:
    """Return (first page, last page), expanding abbreviated ranges such as ``"349-69"``.

    Ovid writes ``"No"`` / ``"Specified"`` for "No Pagination Specified"; such words are dropped.

    Examples
    --------
    >>> normalise_pages("349-69")
    ('349', '369')
    >>> normalise_pages("e90-e95")
    ('e90', 'e95')
    >>> normalise_pages("No", "Specified")
    (None, None)
    """
    first = clean_text(start)
    last = clean_text(end)
    if first and last is None:
        first = undo_spreadsheet_date(first)
        parts = re.split(r"\s*(?:--|-|–|—)\s*", first, maxsplit=1)
        if len(parts) == 2:
            first, last = parts[0] or None, parts[1] or None
    first = _page_token(first)
    last = _page_token(last)
    if first and last and first.isdigit() and last.isdigit() and len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return first, last


_MONTHS = {
    m: k + 1
    for k, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_DAY_MONTH = re.compile(r"^(\d{1,2})-([A-Za-z]{3})$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]{3})-(\d{1,2})$")


def undo_spreadsheet_date(text: str) -> str:
    """Return the page range a spreadsheet turned into a date, else ``text`` unchanged.

    Excel reads "1-6" as 1 June and shows "01-Jun", and "6-12" as June 2012, "Jun-12".

    Examples
    --------
    >>> undo_spreadsheet_date("01-Sep"), undo_spreadsheet_date("Jun-12")
    ('1-9', '6-12')
    >>> undo_spreadsheet_date("12-19")
    '12-19'
    """
    match = _DAY_MONTH.match(text)
    if match and match.group(2).lower() in _MONTHS:
        return f"{int(match.group(1))}-{_MONTHS[match.group(2).lower()]}"
    match = _MONTH_YEAR.match(text)
    if match and match.group(1).lower() in _MONTHS:
        return f"{_MONTHS[match.group(1).lower()]}-{int(match.group(2))}"
    return text


def _page_token(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip(" .,;()[]").removeprefix("pp.").removeprefix("p.").strip()
    if not value or not any(ch.isdigit() for ch in value) or len(value) > 20:
        return None
    return value


def split_authors(value: object) -> list[str]:
    """Split a list of authors written in one string into single names.

    Handles BibTeX (``"Last, F. and Last, F."``), semicolon lists (``"Last, F.; Last, F."``)
    and the old Scopus layout (``"Last F., Last F.A."``).

    Examples
    --------
    >>> split_authors("Zuna, R E and Wang, S S")
    ['Zuna, R E', 'Wang, S S']
    >>> split_authors("Labanski A., Langhorst J., Engler H.")
    ['Labanski A.', 'Langhorst J.', 'Engler H.']
    """
    text = clean_text(value)
    if text is None:
        return []
    if " and " in text:
        return [p.strip() for p in re.split(r"\s+and\s+", text) if p.strip()]
    if ";" in text:
        return [p.strip() for p in text.split(";") if p.strip()]
    if re.fullmatch(r"(?:[^,]+?\s(?:[A-Z][-.]?){1,4}\.?,\s*)+[^,]+?\s(?:[A-Z][-.]?){1,4}\.?", text):
        return [p.strip() for p in text.split(",") if p.strip()]
    return [text]


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _initials(given: str) -> str:
    given = given.replace(".", " ").strip()
    if not given:
        return ""
    compact = given.replace(" ", "").replace("-", "")
    if compact.isupper() and len(compact) <= 4 and compact.isalpha():
        return compact
    letters = [
        part[0].upper() for part in re.split(r"[\s\-]+", given) if part and part[0].isalpha()
    ]
    return "".join(letters)


def _looks_like_initials(token: str) -> bool:
    bare = token.replace(".", "").replace("-", "")
    return 0 < len(bare) <= 4 and bare.isalpha() and bare.isupper()


def normalise_author(value: object) -> str | None:
    """Return one author's name as ``"Last, Initials"`` (initials without dots), or ``None``.

    Notes
    -----
    Layouts recognised, as written by the exporters: ``"Last, First Middle"`` (RIS, BibTeX),
    ``"Last, F.M."`` and ``"Last, FM"`` (Scopus, Web of Science), ``"Last FM"`` (MEDLINE ``AU``),
    ``"Last F.M."`` (Embase), ``"First Last"`` (free text). Name suffixes (Jr, III) are dropped.
    A name of one word (a group author) is kept as written.

    Examples
    --------
    >>> normalise_author("Trindade, Ines A")
    'Trindade, IA'
    >>> normalise_author("Eloubeidi M.A.")
    'Eloubeidi, MA'
    >>> normalise_author("Pinto-Gouveia, Jose")
    'Pinto-Gouveia, J'
    >>> normalise_author("John Smith")
    'Smith, J'
    """
    text = clean_text(value)
    if text is None:
        return None
    text = text.strip(" ,;")
    if "," in text:
        last, _, given = text.partition(",")
        given_parts = given.split(",")
        if len(given_parts) > 1:  # "Last, First, Jr": a suffix is a part of its own
            given_parts = [p for p in given_parts if p.strip().lower() not in _SUFFIXES]
        given = " ".join(given_parts)
    elif _GROUP.search(text):
        return text
    else:
        tokens = text.split()
        if len(tokens) > 2:
            tokens = [t for t in tokens if t.lower().strip(",") not in _SUFFIXES]
        if len(tokens) <= 1:
            return text or None
        if _looks_like_initials(tokens[-1]):
            last, given = " ".join(tokens[:-1]), tokens[-1]
        else:
            last, given = tokens[-1], " ".join(tokens[:-1])
    last = last.strip()
    if not last:
        return None
    initials = _initials(given)
    return f"{last}, {initials}" if initials else last


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free form of ``text`` used for matching.

    Examples
    --------
    >>> fold("Müller-Lüdenscheidt: A <i>Study</i> [Translated]")
    'muller ludenscheidt a study translated'
    """
    if "<" in text:
        text = _TAG.sub("", text)
    # Most titles and names are ASCII: a translation table does in one pass what the
    # accent stripping and the regular expression do for other scripts.
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII_PUNCTUATION).split())
    text = _strip_accents(text).lower()
    text = _NOT_WORD.sub(" ", text)
    return " ".join(text.split())
