"""Blocking, pairwise comparison and the decision rules of deduplication.

Notes
-----
Candidate pairs share at least one blocking key: DOI, PMID, the first or the last
``TITLE_KEY`` characters of the folded title, or first-author surname + year + first page.
A block larger than ``MAX_BLOCK`` (a title such as "Editorial") is split by year, and then
by first author, so that the number of pairs, and the memory, stay bounded.

Each pair gets similarities (rapidfuzz normalised Indel similarity, 1 - d/(|a|+|b|)) of the
compact titles, of the surname lists and of the journals, and hard conflicts: different
DOIs, PMIDs, volumes, first pages, numbers in the titles, kinds of publication (journal,
conference, erratum...), one record being a notice (erratum, reply) and the other not,
years more than one apart. The rules of :func:`classify` decide "duplicate" only without
any conflict; a weaker match goes to the queue for a person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from metasift.records._dedup_prepare import Features

__all__ = ["MAX_BLOCK", "TITLE_KEY", "PairTable", "candidate_pairs", "classify", "compare"]

TITLE_KEY = 24
MAX_BLOCK = 200
_MIN_TITLE = 12
_STOP = {"the", "of", "and", "in", "for", "on", "a", "an", "de", "la", "der", "und"}


def _blocks(features: Features) -> Iterator[list[int]]:
    keys: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, title in enumerate(features.title_compact):
        if features.doi[i] >= 0:
            keys[("doi", str(features.doi[i]))].append(i)
        if features.pmid[i] >= 0:
            keys[("pmid", str(features.pmid[i]))].append(i)
        if len(title) >= _MIN_TITLE:
            keys[("head", title[:TITLE_KEY])].append(i)
            keys[("tail", title[-TITLE_KEY:])].append(i)
        if features.first_author[i] and features.year[i] > 0 and features.pages[i] >= 0:
            key = f"{features.first_author[i]}|{features.year[i]}|{features.pages[i]}"
            keys[("apy", key)].append(i)
    for members in keys.values():
        if len(members) > 1:
            yield from _split_block(members, features)


def _split_block(members: list[int], features: Features) -> Iterator[list[int]]:
    if len(members) <= MAX_BLOCK:
        yield members
        return
    by_year: dict[int, list[int]] = defaultdict(list)
    for i in members:
        by_year[int(features.year[i])].append(i)
    for year, group in sorted(by_year.items()):
        neighbours = group + by_year.get(year + 1, [])
        if len(neighbours) <= MAX_BLOCK:
            yield neighbours
            continue
        by_author: dict[str, list[int]] = defaultdict(list)
        for i in neighbours:
            by_author[features.first_author[i]].append(i)
        yield from (g[:MAX_BLOCK] for g in by_author.values() if len(g) > 1)


def candidate_pairs(features: Features) -> tuple[np.ndarray, np.ndarray]:
    """Return (i, j) index arrays of the distinct candidate pairs, i < j."""
    n = len(features.title)
    codes: list[np.ndarray] = []
    for members in _blocks(features):
        index = np.asarray(sorted(members), dtype=np.int64)
        left, right = np.triu_indices(len(index), k=1)
        codes.append(index[left] * n + index[right])
    if not codes:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    unique = np.unique(np.concatenate(codes))
    return unique // n, unique % n


@dataclass(frozen=True)
class PairTable:
    """Similarities and conflicts of candidate pairs (arrays of equal length)."""

    i: np.ndarray
    j: np.ndarray
    title: np.ndarray
    contained: np.ndarray
    authors: np.ndarray
    first_author: np.ndarray
    journal: np.ndarray
    same_doi: np.ndarray
    same_pmid: np.ndarray
    same_volume: np.ndarray
    same_pages: np.ndarray
    year_gap: np.ndarray
    conflict: np.ndarray
    conflict_pages: np.ndarray
    conflict_ids: np.ndarray


def _both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a >= 0) & (b >= 0)


def _strings(values: list[str], index: np.ndarray) -> list[str]:
    return [values[k] for k in index.tolist()]


def _similarity(a: list[str], b: list[str], scorer: object = fuzz.ratio) -> np.ndarray:
    if not a:
        return np.zeros(0)
    scores = process.cpdist(a, b, scorer=scorer, workers=1, dtype=np.float64)
    empty = np.array([not x or not y for x, y in zip(a, b, strict=True)])
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
    """
    if not a or not b:
        return False
    if a == b or fuzz.ratio(a, b) >= 90:
        return True
    short, long_ = sorted((_journal_tokens(a), _journal_tokens(b)), key=len)
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


def _pages_agree(f: Features, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """First pages equal, or a single page given by one equals the last page of the other
    (some exporters write only the last page of a range)."""
    single_i = f.pages_end[i] < 0
    single_j = f.pages_end[j] < 0
    return (
        (f.pages[i] == f.pages[j])
        | (single_i & (f.pages[i] == f.pages_end[j]))
        | (single_j & (f.pages[j] == f.pages_end[i]))
    )


def compare(features: Features, i: np.ndarray, j: np.ndarray) -> PairTable:
    """Compute similarities and conflicts of the pairs (i, j)."""
    f = features
    title = _similarity(_strings(f.title_compact, i), _strings(f.title_compact, j))
    shorter = np.minimum([len(f.title_compact[k]) for k in i], [len(f.title_compact[k]) for k in j])
    partial = _similarity(
        _strings(f.title_compact, i), _strings(f.title_compact, j), fuzz.partial_ratio
    )
    contained = (np.nan_to_num(partial) >= 0.98) & (shorter >= 20)
    authors = _similarity(_strings(f.authors, i), _strings(f.authors, j))
    first = _similarity(_strings(f.first_author, i), _strings(f.first_author, j))
    journal = _similarity(_strings(f.journal, i), _strings(f.journal, j))
    year_gap = np.where(_both(f.year[i], f.year[j]), np.abs(f.year[i] - f.year[j]), -1)
    diff_doi = _both(f.doi[i], f.doi[j]) & (f.doi[i] != f.doi[j])
    diff_pmid = _both(f.pmid[i], f.pmid[j]) & (f.pmid[i] != f.pmid[j])
    diff_volume = _both(f.volume[i], f.volume[j]) & (f.volume[i] != f.volume[j])
    diff_pages = _both(f.pages[i], f.pages[j]) & ~_pages_agree(f, i, j)
    diff_kind = _both(f.kind[i], f.kind[j]) & (f.kind[i] != f.kind[j])
    same_pages = _both(f.pages[i], f.pages[j]) & ~diff_pages
    # Issue numbers are often wrong or hold something else (an EndNote record number, say),
    # so a different issue counts only when the first pages do not confirm the match.
    diff_issue = _both(f.issue[i], f.issue[j]) & (f.issue[i] != f.issue[j]) & ~same_pages
    conflict = (
        diff_volume
        | diff_kind
        | (f.numbers[i] != f.numbers[j])
        | (f.notice[i] != f.notice[j])
        | (year_gap > 1)
    )
    return PairTable(
        i=i,
        j=j,
        title=np.nan_to_num(title),
        contained=contained,
        authors=authors,
        first_author=first,
        journal=journal,
        same_doi=_both(f.doi[i], f.doi[j]) & (f.doi[i] == f.doi[j]),
        same_pmid=_both(f.pmid[i], f.pmid[j]) & (f.pmid[i] == f.pmid[j]),
        same_volume=_both(f.volume[i], f.volume[j]) & ~diff_volume,
        same_pages=same_pages,
        year_gap=year_gap,
        conflict=conflict,
        conflict_pages=diff_pages | diff_issue,
        conflict_ids=diff_doi | diff_pmid,
    )


def _journals_agree(features: Features, pairs: PairTable, mask: np.ndarray) -> np.ndarray:
    agree = np.zeros(len(pairs.i), dtype=bool)
    for k in np.flatnonzero(mask).tolist():
        a, b = features.journal[pairs.i[k]], features.journal[pairs.j[k]]
        agree[k] = journal_match(a, b) or (pairs.journal[k] >= 0.9)
    return agree


def classify(features: Features, pairs: PairTable) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Return (status code per pair: 2 duplicate, 1 possible, 0 distinct; score; reason).

    Notes
    -----
    A pair is a sure duplicate when it has no conflict and one of these holds:

    1. same DOI or same PMID, and title similarity >= 0.90;
    2. title >= 0.95 (or one title contains the other), authors agree (first surname >= 0.9
       or surname lists >= 0.8), year equal or one apart, and same first page or same volume;
    3. title >= 0.97, authors agree, same year, and journals agree (equal, near-equal or an
       ISO 4 abbreviation of the other);
    4. title >= 0.99, authors agree with the same number of authors, same year, no volume or
       page given for at least one of them.

    A pair without different DOIs/PMIDs is *possible* when title >= 0.85 and authors or
    years agree, or when DOI or PMID is shared. The score is a weighted mean of the field
    agreements (title 0.5, authors 0.2, year 0.1, journal 0.1, pages or volume 0.1).
    """
    p = pairs
    f = features
    authors_ok = (np.nan_to_num(p.first_author) >= 0.9) | (np.nan_to_num(p.authors) >= 0.8)
    year_near = (p.year_gap >= 0) & (p.year_gap <= 1)
    same_year = p.year_gap == 0
    long_title = np.array([len(f.title_compact[k]) >= 30 for k in p.i.tolist()], dtype=bool)
    prefix = p.contained & (p.title < 0.95)
    title_95 = (p.title >= 0.95) | (p.contained & long_title)
    shared_id = p.same_doi | p.same_pmid
    # The DOI or PMID settles the pages: an article number and a page range both occur.
    rule1 = shared_id & ((p.title >= 0.90) | (prefix & authors_ok & year_near))
    rule2 = title_95 & authors_ok & year_near & (p.same_pages | p.same_volume)
    candidates3 = (p.title >= 0.97) & authors_ok & same_year & ~rule1 & ~rule2
    rule3 = candidates3 & _journals_agree(f, p, candidates3 & ~p.conflict & ~p.conflict_pages)
    same_count = f.n_authors[p.i] == f.n_authors[p.j]
    same_kind = (f.kind[p.i] >= 0) & (f.kind[p.i] == f.kind[p.j])
    year_ok = same_year | ((p.year_gap == 1) & same_kind)
    rule4 = (p.title >= 0.98) & long_title & authors_ok & same_count & year_ok
    located = p.same_pages & same_year
    rule5 = ((p.title >= 0.90) | p.contained) & authors_ok & located
    rule6 = (p.title >= 0.99) & long_title & located & p.same_volume
    by_id = rule1 & ~p.conflict & ~p.conflict_ids
    by_fields = (rule2 | rule3 | rule4 | rule5 | rule6) & ~p.conflict & ~p.conflict_pages
    sure = by_id | (by_fields & ~p.conflict_ids)
    possible = (
        ~sure & ~p.conflict_ids & (((p.title >= 0.85) & (authors_ok | year_near)) | shared_id)
    )
    status = np.where(sure, 2, np.where(possible, 1, 0))
    score = (
        0.5 * p.title
        + 0.2 * np.nan_to_num(np.fmax(p.authors, p.first_author))
        + 0.1 * year_near
        + 0.1 * np.nan_to_num(p.journal)
        + 0.1 * (p.same_pages | p.same_volume)
    )
    reasons = _reasons(p, status, rule1, rule2, rule3, authors_ok)
    return status, np.round(score, 6), reasons


def _reasons(
    p: PairTable,
    status: np.ndarray,
    rule1: np.ndarray,
    rule2: np.ndarray,
    rule3: np.ndarray,
    authors_ok: np.ndarray,
) -> list[str]:
    reasons: list[str] = []
    for k in range(len(status)):
        if status[k] == 0:
            reasons.append("")
            continue
        parts = [f"title {p.title[k]:.2f}"]
        if p.same_doi[k]:
            parts.append("doi")
        if p.same_pmid[k]:
            parts.append("pmid")
        if authors_ok[k]:
            parts.append("authors")
        if p.year_gap[k] == 0:
            parts.append("year")
        if p.same_volume[k]:
            parts.append("volume")
        if p.same_pages[k]:
            parts.append("pages")
        if status[k] == 1 and (p.conflict[k] or p.conflict_pages[k]):
            parts.append("conflict: volume, pages, kind, numbers in title or year")
        rule = "rule 1" if rule1[k] else "rule 2" if rule2[k] else "rule 3" if rule3[k] else ""
        rule = rule or ("rules 4-6" if status[k] == 2 else "")
        reasons.append((rule + ": " if rule else "") + ", ".join(parts))
    return reasons


def pair_conflict(features: Features, a: int, b: int) -> bool:
    """True when records a and b may not be in one duplicate group (hard conflict)."""
    f = features
    for values in (f.doi, f.pmid, f.volume, f.kind):
        if values[a] >= 0 and values[b] >= 0 and values[a] != values[b]:
            return True
    same_id = (f.doi[a] >= 0 and f.doi[a] == f.doi[b]) or (
        f.pmid[a] >= 0 and f.pmid[a] == f.pmid[b]
    )
    index_a, index_b = np.array([a]), np.array([b])
    both_paged = f.pages[a] >= 0 and f.pages[b] >= 0
    if not same_id and both_paged and not bool(_pages_agree(f, index_a, index_b)[0]):
        return True
    if f.issue[a] >= 0 and f.issue[b] >= 0 and f.issue[a] != f.issue[b] and f.pages[a] < 0:
        return True
    if f.numbers[a] != f.numbers[b] or f.notice[a] != f.notice[b]:
        return True
    return bool(f.year[a] > 0 and f.year[b] > 0 and abs(f.year[a] - f.year[b]) > 1)
