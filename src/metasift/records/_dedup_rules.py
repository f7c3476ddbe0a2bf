"""The decision rules of deduplication: sure duplicates, possible ones, group conflicts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metasift.records._dedup_pairs import (
    CONFLICT_NAMES,
    KIND_CONFLICT,
    MIN_TITLE,
    PairTable,
    journals_agree,
    pages_agree,
)
from metasift.records._dedup_prepare import Features

__all__ = ["RULES", "Verdicts", "classify", "pair_conflict", "reasons", "report_pairs"]

#: What each sure rule requires besides the absence of any conflict (see :func:`classify`).
RULES = {
    1: "same DOI or PMID, title",
    2: "title, authors, year +/- 1, pages or volume",
    3: "title, authors, year, journal",
    4: "identical long title, same authors, year",
    5: "title, authors, year, first page",
    6: "identical long title, year, volume, first page",
    7: "same journal, volume, issue, page range, year and authors (any title)",
}


@dataclass(frozen=True)
class Verdicts:
    """Per pair: status (2 duplicate, 1 possible, 0 distinct), score, rule (0 when none) and
    whether the authors agree."""

    status: np.ndarray
    score: np.ndarray
    rule: np.ndarray
    authors_ok: np.ndarray

    def take(self, index: np.ndarray) -> Verdicts:
        """Return the verdicts at ``index``."""
        return Verdicts(
            self.status[index], self.score[index], self.rule[index], self.authors_ok[index]
        )

    @staticmethod
    def concat(parts: list[Verdicts]) -> Verdicts:
        """Stack verdicts (at least one)."""
        return Verdicts(
            *(
                np.concatenate([getattr(v, k) for v in parts])
                for k in ("status", "score", "rule", "authors_ok")
            )
        )


def _authors_ok(p: PairTable) -> np.ndarray:
    return (
        (np.nan_to_num(p.first_author) >= 0.9)
        | (np.nan_to_num(p.authors) >= 0.8)
        | (np.nan_to_num(p.swapped) >= 0.8)
    )


def _locator(f: Features, p: PairTable) -> tuple[np.ndarray, np.ndarray]:
    """Rule 7: the same journal, volume, issue, page range (more than one page), year and
    author list identify one article even when its titles differ (a translated title) or
    carry different numbers (a footnote digit, a typo in a gene name).

    Returns (sure, possible). Without an issue on both records the match is only possible:
    journals that page each issue from 1 print articles of one author on the same pages
    of different issues of a volume.
    """
    same_count = (f.n_authors[p.i] == f.n_authors[p.j]) & (f.n_authors[p.i] > 0)
    strong = ((np.nan_to_num(p.authors) >= 0.8) & (np.nan_to_num(p.first_author) >= 0.9)) | (
        np.nan_to_num(p.swapped) >= 0.8
    )
    located = p.same_span & p.same_volume & (p.year_gap == 0) & same_count & strong
    candidates = located & ~p.conflict & ~p.conflict_pages & ~p.conflict_ids
    candidates &= journals_agree(f, p, candidates)
    same_issue = (f.issue[p.i] >= 0) & (f.issue[p.i] == f.issue[p.j])
    return candidates & same_issue, candidates & ~same_issue


def classify(features: Features, pairs: PairTable) -> Verdicts:
    """Decide each pair: sure duplicate, possible duplicate (for a person) or distinct.

    Notes
    -----
    A pair is a sure duplicate when it has no conflict and one of these holds:

    1. same DOI or same PMID, and title similarity >= 0.90;
    2. title >= 0.95 (or one title contains the other), authors agree (first surname >= 0.9,
       surname lists >= 0.8 in order or sorted, or >= 0.8 with given names and surnames
       swapped), year equal or one apart, and same first page or same volume; for a
       title under 30 letters the journals must agree as well;
    3. title >= 0.97, authors agree, same year, and journals agree (equal, near-equal, an
       ISO 4 abbreviation of the other, or a parallel title of it);
    4. title >= 0.98 and long, authors agree with the same number of authors, same year
       (or one apart for the same kind of publication);
    5. title >= 0.90 (or contained), authors agree, same year and first page (journals
       agreeing as well for a title under 30 letters);
    6. title >= 0.99 and long, same year, first page and volume;
    7. same journal, volume, issue, page range, year and author list, whatever the titles
       (a difference of numbers in the titles is then no conflict).

    A pair without different DOIs/PMIDs and with at most one conflicting field is
    *possible* when title >= 0.85 and authors or years agree, when DOI or PMID is shared,
    when journal, volume, page range and year (+/- 1) agree, or when rule 7 holds but an
    issue is missing. A pair that rules 1-6 would merge but for one conflict is therefore
    queued; two conflicting fields (volume and pages, say) make the records distinct.

    The score is a weighted mean of the field agreements (title 0.5, authors 0.2, year
    0.1, journal 0.1, pages or volume 0.1). Similarities are rapidfuzz's normalised Indel
    similarity, 1 - (insertions + deletions) / (|a| + |b|).
    """
    p, f = pairs, features
    authors_ok = _authors_ok(p)
    year_near = (p.year_gap >= 0) & (p.year_gap <= 1)
    same_year = p.year_gap == 0
    long_title = np.minimum(f.title_length[p.i], f.title_length[p.j]) >= 30
    prefix = p.contained & (p.title < 0.95)
    title_95 = (p.title >= 0.95) | (p.contained & long_title)
    shared_id = p.same_doi | p.same_pmid
    conflict = p.conflict | p.numbers_differ
    clean = ~conflict & ~p.conflict_pages & ~p.conflict_ids
    # The DOI or PMID settles the pages: an article number and a page range both occur.
    rule1 = shared_id & ((p.title >= 0.90) | (prefix & authors_ok & year_near))
    rule2 = title_95 & authors_ok & year_near & (p.same_pages | p.same_volume)
    located = p.same_pages & (p.year_gap == 0)
    rule5 = ((p.title >= 0.90) | p.contained) & authors_ok & located
    # A short title ("Commentary", "Editorial") says little and a common surname as much:
    # for rules 2 and 5 the journal must agree too.
    short = (rule2 | rule5) & ~long_title
    short_ok = journals_agree(f, p, short & clean)
    rule2 &= long_title | short_ok
    rule5 &= long_title | short_ok
    candidates3 = (p.title >= 0.97) & authors_ok & same_year & ~rule1 & ~rule2
    rule3 = candidates3 & journals_agree(f, p, candidates3 & ~conflict & ~p.conflict_pages)
    same_count = f.n_authors[p.i] == f.n_authors[p.j]
    same_kind = (f.kind[p.i] >= 0) & (f.kind[p.i] == f.kind[p.j])
    year_ok = same_year | ((p.year_gap == 1) & same_kind)
    rule4 = (p.title >= 0.98) & long_title & authors_ok & same_count & year_ok
    rule6 = (p.title >= 0.99) & long_title & located & p.same_volume
    rule7, located_possible = _locator(f, p)
    valid = (
        rule1 & ~conflict & ~p.conflict_ids,
        *(r & clean for r in (rule2, rule3, rule4, rule5, rule6)),
        rule7,
    )
    sure = np.logical_or.reduce(valid)
    spanned = p.same_span & p.same_volume & year_near & ~sure
    spanned[spanned] = journals_agree(f, p, spanned)[spanned]
    weak = ((p.title >= MIN_TITLE) & (authors_ok | year_near)) | shared_id | spanned
    weak |= located_possible
    # Two fields or more in conflict (volume and pages, say) make a distinct record: on the
    # labelled sets no true duplicate was ever queued with more than one.
    possible = ~sure & ~p.conflict_ids & (p.n_conflicts <= 1) & weak
    status = np.where(sure, 2, np.where(possible, 1, 0)).astype(np.int8)
    rule = np.zeros(len(p), dtype=np.int8)
    for number in range(len(valid), 0, -1):  # the first rule that holds is named
        rule[valid[number - 1]] = number
    score = (
        0.5 * p.title
        + 0.2 * np.nan_to_num(np.fmax(np.fmax(p.authors, p.first_author), p.swapped))
        + 0.1 * year_near
        + 0.1 * np.nan_to_num(p.journal)
        + 0.1 * (p.same_pages | p.same_volume)
    )
    return Verdicts(status, np.round(score, 6), rule, authors_ok)


def report_pairs(pairs: PairTable, verdicts: Verdicts) -> np.ndarray:
    """Pairs that may be two reports of one study (second pass of ``group_reports``):
    near-equal titles (>= 0.93), authors agreeing, years at most three apart."""
    gap = pairs.year_gap
    return (pairs.title >= 0.93) & verdicts.authors_ok & (gap >= 0) & (gap <= 3)


def _conflicts(f: Features, p: PairTable, k: int) -> list[str]:
    a, b = int(p.i[k]), int(p.j[k])
    names = [
        name
        for values, name in ((f.doi, "doi"), (f.pmid, "pmid"))
        if values[a] >= 0 and values[b] >= 0 and values[a] != values[b]
    ]
    return names + [name for bit, name in CONFLICT_NAMES.items() if p.conflicts[k] & bit]


def reasons(features: Features, p: PairTable, v: Verdicts) -> list[str]:
    """Text per pair: the rule that decided (sure duplicates), the fields that agree and,
    for possible ones, the fields in conflict."""
    out: list[str] = []
    for k in range(len(p)):
        if v.status[k] == 0:
            out.append("")
            continue
        parts = [f"title {p.title[k]:.2f}"]
        for flag, name in (
            (p.same_doi[k], "doi"),
            (p.same_pmid[k], "pmid"),
            (v.authors_ok[k], "authors"),
            (p.year_gap[k] == 0, "year"),
            (p.same_volume[k], "volume"),
            (p.same_span[k], "page range") if p.same_span[k] else (p.same_pages[k], "pages"),
        ):
            if flag:
                parts.append(name)
        conflicts = _conflicts(features, p, k) if v.status[k] == 1 else []
        if conflicts:
            parts.append("conflict: " + ", ".join(conflicts))
        rule = f"rule {v.rule[k]}: " if v.rule[k] else ""
        out.append(rule + ", ".join(parts))
    return out


def pair_conflict(features: Features, a: int, b: int, ignore_numbers: bool = False) -> bool:
    """True when records a and b may not be in one duplicate group (hard conflict).

    ``ignore_numbers``: numbers in the titles may differ (the groups are joined by rule 7,
    which identifies the article by where it is printed, not by its title).
    """
    f = features
    for values in (f.doi, f.pmid, f.volume):
        if values[a] >= 0 and values[b] >= 0 and values[a] != values[b]:
            return True
    if f.kind[a] >= 0 and f.kind[b] >= 0 and KIND_CONFLICT[f.kind[a], f.kind[b]]:
        return True
    same_id = (f.doi[a] >= 0 and f.doi[a] == f.doi[b]) or (
        f.pmid[a] >= 0 and f.pmid[a] == f.pmid[b]
    )
    both_paged = f.pages[a] >= 0 and f.pages[b] >= 0
    agree = both_paged and bool(pages_agree(f, np.array([a]), np.array([b]))[0])
    if not same_id and both_paged and not agree:
        return True
    if f.issue[a] >= 0 and f.issue[b] >= 0 and f.issue[a] != f.issue[b] and not agree:
        return True
    if f.notice[a] != f.notice[b]:
        return True
    if f.numbers[a] != f.numbers[b] and not ignore_numbers:
        return True
    return bool(f.year[a] > 0 and f.year[b] > 0 and abs(f.year[a] - f.year[b]) > 1)
