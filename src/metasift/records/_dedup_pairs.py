"""Pairwise comparison and the decision rules of deduplication.

Notes
-----
Each candidate pair (see ``_dedup_blocks``) gets the similarity of its compact titles
(rapidfuzz normalised Indel similarity, 1 - d/(|a|+|b|)). Pairs that cannot be duplicates
or possible duplicates (title similarity below 0.85, neither title containing the other,
no shared DOI or PMID, no shared page range) are dropped there; the others get the
similarities of their surname lists (in order, sorted, and with given names and surnames
swapped), first authors and journals, and hard conflicts: different DOIs, PMIDs, volumes,
first pages, numbers in the titles, kinds of publication that cannot describe one item
(journal, conference, erratum...), one record being a notice (erratum, reply) and the other
not, years more than one apart. The rules of :func:`classify` decide "duplicate" only
without any conflict; a weaker match goes to the queue for a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from metasift.records._dedup_prepare import KINDS, Features

__all__ = [
    "CONFLICT_NAMES",
    "KIND_CONFLICT",
    "MIN_TITLE",
    "PairTable",
    "compare",
    "journal_match",
    "journals_agree",
    "pages_agree",
]

# Articles, conjunctions and prepositions, which ISO 4 abbreviations leave out.
_STOP = frozenset(
    [
        "the",
        "of",
        "and",
        "in",
        "for",
        "on",
        "a",
        "an",
        "at",
        "by",
        "to",
        "with",
        "from",
        "de",
        "la",
        "le",
        "les",
        "l",
        "d",
        "du",
        "des",
        "et",
        "di",
        "del",
        "della",
        "e",
        "y",
        "der",
        "die",
        "das",
        "und",
        "fur",
        "zur",
        "im",
        "van",
        "voor",
        "en",
        "i",
    ]
)
# Kinds that cannot describe one item. A paper in a proceedings book is exported as a
# conference paper by some databases and as a book chapter by others: those two agree.
KIND_CONFLICT = ~np.eye(len(KINDS), dtype=bool)
_CONFERENCE, _CHAPTER = 1, 3
KIND_CONFLICT[_CONFERENCE, _CHAPTER] = KIND_CONFLICT[_CHAPTER, _CONFERENCE] = False
#: Bits of :attr:`PairTable.conflicts`, and their names.
VOLUME, PAGES, KIND, NUMBERS, NOTICE, YEAR = 1, 2, 4, 8, 16, 32
CONFLICT_NAMES = {
    VOLUME: "volume",
    PAGES: "pages",
    KIND: "kind of publication",
    NUMBERS: "numbers in title",
    NOTICE: "notice (erratum, reply)",
    YEAR: "year",
}
#: Title similarity below which a pair is dropped unless identifiers or pages link it.
MIN_TITLE = 0.85


@dataclass(frozen=True)
class PairTable:
    """Similarities and conflicts of candidate pairs (arrays of equal length)."""

    i: np.ndarray
    j: np.ndarray
    title: np.ndarray
    contained: np.ndarray
    authors: np.ndarray
    first_author: np.ndarray
    swapped: np.ndarray
    journal: np.ndarray
    same_doi: np.ndarray
    same_pmid: np.ndarray
    same_volume: np.ndarray
    same_pages: np.ndarray
    same_span: np.ndarray
    year_gap: np.ndarray
    conflicts: np.ndarray
    conflict_ids: np.ndarray

    def __len__(self) -> int:
        return len(self.i)

    @property
    def conflict(self) -> np.ndarray:
        """Volume, kind, notice or year conflict."""
        return (self.conflicts & (VOLUME | KIND | NOTICE | YEAR)) != 0

    @property
    def numbers_differ(self) -> np.ndarray:
        """The titles hold different numbers."""
        return (self.conflicts & NUMBERS) != 0

    @property
    def conflict_pages(self) -> np.ndarray:
        """First pages (or, when pages do not confirm, issues) differ."""
        return (self.conflicts & PAGES) != 0

    @property
    def n_conflicts(self) -> np.ndarray:
        """Number of conflicting fields (identifiers not counted)."""
        return np.unpackbits(self.conflicts[:, None], axis=1).sum(axis=1)

    def take(self, index: np.ndarray) -> PairTable:
        """Return the pairs at ``index``."""
        return PairTable(**{k: v[index] for k, v in self.__dict__.items()})

    @staticmethod
    def concat(tables: list[PairTable]) -> PairTable:
        """Stack pair tables (at least one)."""
        names = tables[0].__dict__.keys()
        return PairTable(**{k: np.concatenate([t.__dict__[k] for t in tables]) for k in names})


def _both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a >= 0) & (b >= 0)


def _strings(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    return values[index]


def _similarity(a: np.ndarray, b: np.ndarray, scorer: object = fuzz.ratio) -> np.ndarray:
    """Similarity in [0, 1] of the strings a[k] and b[k]; NaN when one is empty."""
    if not len(a):
        return np.zeros(0)
    scores = process.cpdist(a, b, scorer=scorer, workers=-1, dtype=np.float64)
    empty = (a == "") | (b == "")
    return np.where(empty, np.nan, np.asarray(scores) / 100.0)


def _journal_tokens(name: str) -> list[str]:
    return [t for t in name.split() if t not in _STOP]


def journal_match(a: str, b: str) -> bool:
    """True when one journal name abbreviates the other (ISO 4 style) or they nearly match.

    Examples
    --------
    >>> journal_match("j parenter enteral nutr", "journal of parenteral and enteral nutrition")
    True
    >>> journal_match("cancer", "cancer cytopathology")
    False
    >>> journal_match("clinical medicine insights circulatory respiratory and pulmonary medicine",
    ...               "clin med insights circ respir pulm med")
    True
    """
    if not a or not b:
        return False
    if a == b or fuzz.ratio(a, b) >= 90:
        return True
    # The abbreviation: fewer words, or as many words with fewer letters.
    short, long_ = sorted(
        (_journal_tokens(a), _journal_tokens(b)), key=lambda t: (len(t), sum(map(len, t)))
    )
    if not short or len(short) < len(long_) - 1:
        return False
    position = 0
    for token in short:
        while position < len(long_) and not long_[position].startswith(token):
            position += 1
        if position == len(long_):
            return False
        position += 1
    return len(short) >= 2 or len(long_) == 1


def pages_agree(f: Features, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """First pages equal, or a single page given by one equals the last page of the other
    (some exporters write only the last page of a range)."""
    single_i = f.pages_end[i] < 0
    single_j = f.pages_end[j] < 0
    return (
        (f.pages[i] == f.pages[j])
        | (single_i & (f.pages[i] == f.pages_end[j]))
        | (single_j & (f.pages[j] == f.pages_end[i]))
    )


def _title_filter(f: Features, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, ...]:
    """Title similarity and containment of every pair, and which pairs to keep."""
    a, b = _strings(f.title_compact, i), _strings(f.title_compact, j)
    title = np.nan_to_num(_similarity(a, b))
    length_i, length_j = f.title_length[i], f.title_length[j]
    shorter = np.minimum(length_i, length_j)
    # partial_ratio >= 0.98 needs about 0.98 * |shorter| characters in common, which bounds
    # the Indel similarity from below: only pairs above that bound are tried (it is slow).
    maybe = (shorter >= 20) & (title < 0.95) & (title * (length_i + length_j) >= 1.94 * shorter)
    contained = np.zeros(len(i), dtype=bool)
    if maybe.any():
        k = np.flatnonzero(maybe)
        partial = _similarity(a[k], b[k], fuzz.partial_ratio)
        contained[k] = np.nan_to_num(partial) >= 0.98
    shared = (_both(f.doi[i], f.doi[j]) & (f.doi[i] == f.doi[j])) | (
        _both(f.pmid[i], f.pmid[j]) & (f.pmid[i] == f.pmid[j])
    )
    span = (f.pages[i] >= 0) & (f.pages[i] == f.pages[j]) & (f.pages_end[i] >= 0)
    span &= f.pages_end[i] == f.pages_end[j]
    keep = (title >= MIN_TITLE) | contained | shared | span
    return title, contained, keep


def _author_similarities(f: Features, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, ...]:
    """Surname lists (in order, or sorted when the order differs), first authors, and the
    best match of one record's surnames with the other's given names (swapped parts)."""
    authors = _similarity(_strings(f.authors, i), _strings(f.authors, j))
    low = np.flatnonzero(~(np.nan_to_num(authors) >= 0.8) & ~np.isnan(authors))
    if len(low):
        ordered = _similarity(
            _strings(f.authors_sorted, i[low]), _strings(f.authors_sorted, j[low])
        )
        authors[low] = np.fmax(authors[low], ordered)
    first = _similarity(_strings(f.first_author, i), _strings(f.first_author, j))
    swapped = np.full(len(i), np.nan)
    try_swap = (f.n_authors[i] == f.n_authors[j]) & ~(np.nan_to_num(authors) >= 0.8)
    k = np.flatnonzero(try_swap)
    if len(k):
        a, b = i[k], j[k]
        one = _similarity(_strings(f.authors_sorted, a), _strings(f.given, b))
        two = _similarity(_strings(f.given, a), _strings(f.authors_sorted, b))
        swapped[k] = np.fmax(one, two)
    return authors, first, swapped


def compare(features: Features, i: np.ndarray, j: np.ndarray) -> PairTable:
    """Compare the pairs (i, j); return those that may be duplicates, with their fields."""
    f = features
    title, contained, keep = _title_filter(f, i, j)
    k = np.flatnonzero(keep)
    i, j, title, contained = i[k], j[k], title[k], contained[k]
    authors, first, swapped = _author_similarities(f, i, j)
    journal = _similarity(_strings(f.journal, i), _strings(f.journal, j))
    year_gap = np.where(_both(f.year[i], f.year[j]), np.abs(f.year[i] - f.year[j]), -1)
    diff_doi = _both(f.doi[i], f.doi[j]) & (f.doi[i] != f.doi[j])
    diff_pmid = _both(f.pmid[i], f.pmid[j]) & (f.pmid[i] != f.pmid[j])
    diff_volume = _both(f.volume[i], f.volume[j]) & (f.volume[i] != f.volume[j])
    diff_pages = _both(f.pages[i], f.pages[j]) & ~pages_agree(f, i, j)
    diff_kind = _both(f.kind[i], f.kind[j])
    diff_kind[diff_kind] = KIND_CONFLICT[f.kind[i][diff_kind], f.kind[j][diff_kind]]
    same_pages = _both(f.pages[i], f.pages[j]) & ~diff_pages
    same_span = same_pages & (f.pages_end[i] >= 0) & (f.pages_end[i] == f.pages_end[j])
    # Issue numbers are often wrong or hold something else (an EndNote record number, say),
    # so a different issue counts only when the first pages do not confirm the match.
    diff_issue = _both(f.issue[i], f.issue[j]) & (f.issue[i] != f.issue[j]) & ~same_pages
    return PairTable(
        i=i,
        j=j,
        title=title,
        contained=contained,
        authors=authors,
        first_author=first,
        swapped=swapped,
        journal=journal,
        same_doi=_both(f.doi[i], f.doi[j]) & (f.doi[i] == f.doi[j]),
        same_pmid=_both(f.pmid[i], f.pmid[j]) & (f.pmid[i] == f.pmid[j]),
        same_volume=_both(f.volume[i], f.volume[j]) & ~diff_volume,
        same_pages=same_pages,
        same_span=same_span,
        year_gap=year_gap,
        conflicts=(
            VOLUME * diff_volume
            + PAGES * (diff_pages | diff_issue)
            + KIND * diff_kind
            + NUMBERS * (f.numbers[i] != f.numbers[j])
            + NOTICE * (f.notice[i] != f.notice[j])
            + YEAR * (year_gap > 1)
        ).astype(np.uint8),
        conflict_ids=diff_doi | diff_pmid,
    )


def journals_agree(features: Features, pairs: PairTable, mask: np.ndarray) -> np.ndarray:
    agree = np.zeros(len(pairs.i), dtype=bool)
    parts = features.journal_parts
    for k in np.flatnonzero(mask).tolist():
        a, b = parts[pairs.i[k]], parts[pairs.j[k]]
        agree[k] = pairs.journal[k] >= 0.9 or any(journal_match(x, y) for x in a for y in b)
    return agree
