"""Pre-screening filters: the protocol's years and languages propose exclusions.

A record outside the protocol's publication years, or in none of its languages, gets a
*proposal* with that reason. Nothing is excluded until a person accepts the proposal; a
record whose year or language is unknown gets no proposal. Proposals apply to records from
databases and registers (the records that go through title/abstract screening).
"""

from __future__ import annotations

import re
from typing import Any

from metasift.review.protocol import Eligibility

__all__ = ["language_names", "proposal"]

# ISO 639-1 and 639-2 (B and T) codes of the languages most often met in exports, so that
# "eng", "en" and "English" compare equal.
_CODES = {
    "english": ("en", "eng"),
    "german": ("de", "ger", "deu"),
    "french": ("fr", "fre", "fra"),
    "spanish": ("es", "spa"),
    "dutch": ("nl", "dut", "nld"),
    "italian": ("it", "ita"),
    "portuguese": ("pt", "por"),
    "chinese": ("zh", "chi", "zho"),
    "japanese": ("ja", "jpn"),
    "korean": ("ko", "kor"),
    "russian": ("ru", "rus"),
    "swedish": ("sv", "swe"),
    "norwegian": ("no", "nor", "nob", "nno"),
    "danish": ("da", "dan"),
    "finnish": ("fi", "fin"),
    "polish": ("pl", "pol"),
    "turkish": ("tr", "tur"),
    "arabic": ("ar", "ara"),
    "hebrew": ("he", "heb"),
    "greek": ("el", "gre", "ell"),
    "hungarian": ("hu", "hun"),
    "czech": ("cs", "cze", "ces"),
    "persian": ("fa", "per", "fas"),
}
_BY_CODE = {code: name for name, codes in _CODES.items() for code in codes}


def language_names(text: str | None) -> set[str]:
    """Normalised language names in a record's language field.

    Examples
    --------
    >>> sorted(language_names("eng; Ger"))
    ['english', 'german']
    >>> language_names(None)
    set()
    """
    if not text:
        return set()
    names = set()
    for part in re.split(r"[;,/|]+|\s+and\s+", str(text)):
        word = part.strip().casefold()
        if word:
            names.add(_BY_CODE.get(word, word))
    return names


def proposal(year: Any, language: Any, eligibility: Eligibility) -> str | None:
    """The reason to propose excluding a record before screening, or None.

    Examples
    --------
    >>> from metasift.review.protocol import Eligibility
    >>> rule = Eligibility(languages=["English"], years={"from": 1990})
    >>> proposal(1985, "eng", rule)
    'published in 1985, outside the protocol years 1990-'
    >>> proposal(2001, "fre", rule)
    "language 'fre' is not among the protocol languages ['English']"
    >>> proposal(2001, None, rule) is None
    True
    """
    reasons = []
    years = eligibility.years
    if year is not None and year == year:
        value = int(year)
        if (years.start is not None and value < years.start) or (
            years.end is not None and value > years.end
        ):
            span = f"{years.start or ''}-{years.end or ''}"
            reasons.append(f"published in {value}, outside the protocol years {span}")
    allowed = set().union(*(language_names(x) for x in eligibility.languages))
    found = language_names(language)
    if allowed and found and not found & allowed:
        reasons.append(
            f"language {language!r} is not among the protocol languages "
            f"{list(eligibility.languages)}"
        )
    return "; ".join(reasons) or None
