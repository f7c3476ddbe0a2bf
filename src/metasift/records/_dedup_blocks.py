"""Blocking for deduplication: the candidate pairs, found without comparing all pairs.

Notes
-----
Candidate pairs share at least one blocking key: DOI, PMID, the first or the last
``TITLE_KEY`` characters of the compact folded title, first-author surname + year + first
page, first author + volume, or volume + first page + year (records without authors).
Each key is factorised to integer codes and sorted once; the pairs of every block of one
size are made at once with NumPy. A block larger than ``MAX_BLOCK`` (a title such as
"Editorial", or a common title ending such as "a randomised controlled trial") is split
by year (with the next year), then by first author, and a first-author group still too
large is covered by windows over its titles in sorted order (sorted neighbourhood), so
that the number of pairs, and the memory, stay bounded by the block size. A true
duplicate pair that shares only such a large key is then found only when its first
authors agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import numpy as np
import pandas as pd

from metasift.records._dedup_prepare import Features

__all__ = ["MAX_BLOCK", "TITLE_KEY", "candidate_pairs"]

TITLE_KEY = 24
MAX_BLOCK = 50
_MIN_TITLE = 12


def _factor(keys: list[str | None]) -> np.ndarray:
    codes, _ = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64)


def _key_codes(f: Features) -> Iterator[np.ndarray]:
    """Integer codes per record for each blocking key (-1: the record has no such key)."""
    yield f.doi
    yield f.pmid
    titled = [len(t) >= _MIN_TITLE for t in f.title_compact]
    yield _factor(
        [t[:TITLE_KEY] if ok else None for t, ok in zip(f.title_compact, titled, strict=True)]
    )
    yield _factor(
        [t[-TITLE_KEY:] if ok else None for t, ok in zip(f.title_compact, titled, strict=True)]
    )
    paged = (f.year > 0) & (f.pages >= 0)
    yield _factor(
        [
            f"{a}|{y}|{p}" if ok and a else None
            for a, y, p, ok in zip(
                f.first_author, f.year.tolist(), f.pages.tolist(), paged, strict=True
            )
        ]
    )
    # First author + volume survives typos in both titles and a year that differs.
    yield _factor(
        [
            f"{a}|{v}" if a and v >= 0 else None
            for a, v in zip(f.first_author, f.volume.tolist(), strict=True)
        ]
    )
    located = paged & (f.volume >= 0)
    yield _factor(
        [
            f"{v}|{p}|{y}" if ok else None
            for v, p, y, ok in zip(
                f.volume.tolist(), f.pages.tolist(), f.year.tolist(), located, strict=True
            )
        ]
    )


def _split_block(members: np.ndarray, features: Features) -> Iterator[np.ndarray]:
    by_year: dict[int, list[int]] = defaultdict(list)
    for i in members.tolist():
        by_year[int(features.year[i])].append(i)
    for year, group in sorted(by_year.items()):
        neighbours = group + by_year.get(year + 1, [])
        if len(neighbours) <= MAX_BLOCK:
            yield np.asarray(neighbours, dtype=np.int64)
            continue
        by_author: dict[str, list[int]] = defaultdict(list)
        for i in neighbours:
            by_author[features.first_author[i]].append(i)
        for g in by_author.values():
            yield from _windows(g, features)


def _windows(group: list[int], features: Features) -> Iterator[np.ndarray]:
    """Blocks of at most ``MAX_BLOCK`` records: the group itself, or windows overlapping by
    half over the group sorted by title (sorted neighbourhood)."""
    if len(group) < 2:
        return
    if len(group) <= MAX_BLOCK:
        yield np.asarray(group, dtype=np.int64)
        return
    ordered = sorted(group, key=lambda k: features.title_compact[k])
    step = MAX_BLOCK // 2
    for start in range(0, len(ordered) - step, step):
        yield np.asarray(ordered[start : start + MAX_BLOCK], dtype=np.int64)


def _pairs_of_blocks(blocks: np.ndarray) -> np.ndarray:
    """Pair codes ``min * n + max`` of every pair inside each row of ``blocks`` (g, s)."""
    left, right = np.triu_indices(blocks.shape[1], k=1)
    a, b = blocks[:, left].ravel(), blocks[:, right].ravel()
    return np.minimum(a, b), np.maximum(a, b)  # type: ignore[return-value]


def _block_pairs(codes: np.ndarray, features: Features) -> Iterator[np.ndarray]:
    n = len(codes)
    members = np.flatnonzero(codes >= 0)
    order = members[np.argsort(codes[members], kind="stable")]
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    by_size: dict[int, list[np.ndarray]] = defaultdict(list)
    for size in np.unique(sizes[sizes > 1]).tolist():
        first = starts[sizes == size]
        if size <= MAX_BLOCK:
            by_size[size].append(order[first[:, None] + np.arange(size)])
            continue
        for start in first.tolist():
            for block in _split_block(order[start : start + size], features):
                by_size[len(block)].append(block[None, :])
    for blocks in by_size.values():
        low, high = _pairs_of_blocks(np.concatenate(blocks))
        yield low * n + high


def candidate_pairs(features: Features) -> tuple[np.ndarray, np.ndarray]:
    """Return (i, j) index arrays of the distinct candidate pairs, i < j, sorted.

    Examples
    --------
    >>> import pandas as pd
    >>> from metasift.records._dedup_prepare import prepare
    >>> f = prepare(pd.DataFrame({"title": ["Peer support in psychosis: a trial"] * 2
    ...                                    + ["Recovery colleges in England"]}))
    >>> candidate_pairs(f)
    (array([0], dtype=int32), array([1], dtype=int32))
    """
    n = len(features.record_id)
    found = [p for codes in _key_codes(features) for p in _block_pairs(codes, features)]
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    codes = np.concatenate(found)
    del found
    codes.sort()
    first = np.empty(len(codes), dtype=bool)
    first[0] = True
    np.not_equal(codes[1:], codes[:-1], out=first[1:])
    codes = codes[first]
    del first
    # int32 halves the memory of tens of millions of pairs (n < 2**31 records).
    return (codes // n).astype(np.int32), (codes % n).astype(np.int32)
