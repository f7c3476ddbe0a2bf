"""``simulate_records``: realistic, labelled record sets full of duplicates, for benchmarks.

Each simulated *work* (an article, a conference abstract, an erratum) is exported by one to
four databases; every copy carries the changes that real exports make to one record:
case and punctuation, typos, authors with full given names or initials and in another
order, DOIs missing or written as URLs, journals abbreviated (ISO 4) or in full, page
ranges abbreviated, years of the online and of the print issue. Hard negatives are works
of their own that look like another one: errata, conference abstracts of an article, a
later follow-up, part 2 of a series, and short generic titles ("Editorial") by other
authors. The ``work_id`` column says which records are one work: the ground truth.
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd

from metasift.errors import InputError

__all__ = ["simulate_records"]


def _words(text: str) -> tuple[str, ...]:
    """Vocabulary written as one "|"-separated string (compact to read and to extend)."""
    return tuple(text.split("|"))


_INTERVENTIONS = _words(
    "peer support|cognitive behavioural therapy|exercise training|mindfulness training|"
    "case management|supported employment|family psychoeducation|"
    "motivational interviewing|telephone coaching|text message reminders|"
    "web-based self-help|group psychotherapy|nurse-led follow-up|home visits|"
    "school-based prevention|financial incentives|acupuncture|yoga|music therapy|"
    "problem-solving therapy|collaborative care|assertive community treatment|"
    "housing first|smoking cessation counselling|brief alcohol intervention|metformin|"
    "sertraline|fluoxetine|lithium|clozapine|vitamin D supplementation|"
    "omega-3 fatty acids|early mobilisation|video consultations|"
    "mobile health applications|crisis planning|shared decision making|recovery colleges|"
    "dialectical behaviour therapy|behavioural activation|interpersonal therapy|"
    "transcranial magnetic stimulation|electroconvulsive therapy|social skills training"
)
_CONDITIONS = _words(
    "depression|schizophrenia|bipolar disorder|anxiety disorders|"
    "post-traumatic stress disorder|type 2 diabetes|chronic heart failure|hypertension|"
    "obesity|chronic pain|dementia|stroke|asthma|chronic obstructive pulmonary disease|"
    "alcohol use disorder|opioid dependence|eating disorders|psychosis|autism|"
    "attention deficit hyperactivity disorder|insomnia|breast cancer|multiple sclerosis|"
    "HIV infection|low back pain|first-episode psychosis|postnatal depression|"
    "borderline personality disorder|serious mental illness|tuberculosis|"
    "rheumatoid arthritis|coronary heart disease"
)
_POPULATIONS = _words(
    "adults|older adults|adolescents|children|veterans|university students|"
    "primary care patients|inpatients|outpatients|homeless people|pregnant women|"
    "nursing home residents|refugees|prisoners|carers|health workers|rural communities|"
    "ethnic minority groups"
)
_OUTCOMES = _words(
    "quality of life|hospital readmission|symptom severity|employment|"
    "medication adherence|self-efficacy|social functioning|mortality|relapse|costs|"
    "loneliness|hope|empowerment|physical activity|glycaemic control|blood pressure|"
    "sleep quality|suicidal ideation|service use|wellbeing"
)
_DESIGNS = _words(
    "a randomised controlled trial|a pilot randomised trial|a cluster randomised trial|"
    "a systematic review and meta-analysis|a cohort study|a qualitative study|"
    "a cross-sectional survey|a feasibility study|"
    "study protocol for a randomised controlled trial|a mixed-methods evaluation|"
    "a multicentre trial|a secondary analysis"
)
_COUNTRIES = _words(
    "England|Scotland|the Netherlands|Germany|Denmark|Sweden|Norway|Australia|Canada|"
    "the United States|China|India|Brazil|South Africa|Kenya|Japan|Spain|Italy|Chile|"
    "Iran"
)
_TEMPLATES = (
    "{I} for {P} with {C}: {D}",
    "Effect of {I} on {O} in {P} with {C}: {D}",
    "Effectiveness of {I} for {C} in {K}: {D}",
    "{I} versus {J} for {C}: {D}",
    "{O} after {I} among {P} with {C}",
    "Does {I} improve {O} in {C}? {D}",
    "{C} in {P}: the role of {I}",
    "Long-term {O} of {I} for {P} with {C} in {K}",
    "Cost-effectiveness of {I} compared with {J} in {C}",
    "Predictors of {O} in {P} receiving {I} for {C}",
    "A randomised trial of {I} and {J} for {P} with {C} in {K}",
    "The impact of {I} on {O} and {Q} in {C}",
    "Implementing {I} in {K}: barriers and facilitators for {P} with {C}",
    "{Q} and {O} in {P} with {C} in {K}: {D}",
)
_JOURNAL_WORDS = {
    "Journal": "J",
    "International": "Int",
    "American": "Am",
    "British": "Br",
    "European": "Eur",
    "Clinical": "Clin",
    "Psychiatry": "Psychiatry",
    "Nursing": "Nurs",
    "Medicine": "Med",
    "Research": "Res",
    "Psychology": "Psychol",
    "Social": "Soc",
    "Science": "Sci",
    "Review": "Rev",
    "Mental": "Ment",
    "Health": "Health",
    "Services": "Serv",
    "Rehabilitation": "Rehabil",
    "Practice": "Pract",
    "Therapy": "Ther",
    "Disorders": "Disord",
    "Affective": "Affect",
    "Annals": "Ann",
    "Archives": "Arch",
    "Epidemiology": "Epidemiol",
    "Pediatrics": "Pediatr",
    "Cardiology": "Cardiol",
    "Oncology": "Oncol",
    "Behavioral": "Behav",
    "Evidence": "Evid",
    "Family": "Fam",
    "Community": "Community",
    "Public": "Public",
    "Preventive": "Prev",
    "Addiction": "Addict",
    "Diabetes": "Diabetes",
    "Neurology": "Neurol",
    "Primary": "Prim",
    "Care": "Care",
    "General": "Gen",
    "Scandinavian": "Scand",
    "Australian": "Aust",
    "Canadian": "Can",
}
_JOURNAL_PATTERNS = (
    ("Journal", "of", 1, 2),
    ("International", "Journal", "of", 1, 2),
    ("Annals", "of", 1),
    (1, 2),
    (0, 1, 2),
    ("Archives", "of", 1, 2),
    (0, "Journal", "of", 1),
)
_SYLLABLES = _words(
    "an|ber|cor|dal|el|fen|gar|hol|is|jan|kar|lin|mor|nor|ol|per|ros|sil|tor|ul|van|wes|"
    "zim|bra|chen|dor|fitz|gun|hed|kol|lund|mac|ness|oak|quin|rid|stein|thal|wick|yar"
)
_ENDINGS = _words("son|sen|berg|man|ini|ez|ova|ski|er|ley|ton|ard|ell|ich|aki|a|o|ing|ford|dt")
_COMMON = _words("Wang|Li|Zhang|Smith|Kim|Nguyen|Garcia|Müller|Johnson|Chen|Patel|Brown|Singh")
_GIVEN = _words(
    "Anna|Ben|Carla|David|Elena|Farid|Grace|Hiro|Ines|Jonas|Kate|Luis|Maria|Nils|Olga|"
    "Peter|Qing|Rosa|Sam|Tariq|Uma|Vera|Wei|Xin|Yusuf|Zoe|Mei|Jorge|Aisha|Lars"
)
_DATABASES = ("PubMed", "Embase", "PsycInfo", "CINAHL", "Web of Science", "Scopus")
_GENERIC = ("Editorial", "Letter to the editor", "Introduction", "Commentary", "Book review")


def _surnames(rng: random.Random) -> list[str]:
    made = {(a + b).capitalize() for a in _SYLLABLES for b in _ENDINGS}
    return sorted(made) + list(_COMMON) * 40  # common surnames are common


def _journals(rng: random.Random, count: int) -> list[tuple[str, str]]:
    words = list(_JOURNAL_WORDS)
    out: dict[str, str] = {}
    while len(out) < count:
        pattern = rng.choice(_JOURNAL_PATTERNS)
        picked = [w if isinstance(w, str) else rng.choice(words) for w in pattern]
        full = " ".join(picked)
        out[full] = " ".join(_JOURNAL_WORDS.get(w, w) for w in picked if w != "of")
    return list(out.items())


def _work(rng: random.Random, surnames: list[str], journals: list[tuple[str, str]]) -> dict:
    a, b = rng.sample(_INTERVENTIONS, 2)
    o, q = rng.sample(_OUTCOMES, 2)
    title = rng.choice(_TEMPLATES).format(
        I=a,
        J=b,
        C=rng.choice(_CONDITIONS),
        P=rng.choice(_POPULATIONS),
        O=o,
        Q=q,
        D=rng.choice(_DESIGNS),
        K=rng.choice(_COUNTRIES),
    )
    first = rng.randrange(1, 2400)
    year = rng.randrange(1985, 2026)
    authors = [
        (
            rng.choice(surnames),
            rng.choice(_GIVEN),
            rng.choice("ABCDEFGHJKLMNPRST") * rng.randrange(2),
        )
        for _ in range(rng.choice((1, 2, 3, 3, 4, 5, 6, 8, 12)))
    ]
    return {
        "title": title[0].upper() + title[1:],
        "authors": authors,
        "year": year,
        "journal": rng.choice(journals),
        "volume": str(max(1, year - rng.randrange(1940, 1984))),
        "issue": str(rng.randrange(1, 13)),
        "pages": (first, first + rng.randrange(4, 20)),
        "doi": f"10.{rng.randrange(1000, 9999)}/{rng.getrandbits(40):x}",
        "pmid": str(rng.randrange(10**6, 4 * 10**7)) if rng.random() < 0.6 else None,
        "kind": "Journal Article",
    }


_SENTENCES = (
    "We assessed whether {I} improves {O} in {P} with {C}.",
    "{P} with {C} were randomly assigned to {I} or {J}.",
    "The primary outcome was {O} at {N} months; secondary outcomes included {Q}.",
    "Of {M} participants screened, {N}0 were eligible and {N}5 completed follow-up.",
    "{I} reduced {O} compared with {J} (standardised mean difference -0.{N}).",
    "There was no difference in {Q} between groups.",
    "Adverse events were rare and similar in both arms.",
    "Findings support the use of {I} for {P} in {K}, but larger trials are needed.",
    "Qualitative interviews explored how {P} experienced {I}.",
    "Costs per participant were lower with {I} than with {J}.",
)


def _abstract(rng: random.Random, words: int) -> str:
    out: list[str] = []
    while sum(len(s.split()) for s in out) < words:
        a, b = rng.sample(_INTERVENTIONS, 2)
        out.append(
            rng.choice(_SENTENCES).format(
                I=a,
                J=b,
                C=rng.choice(_CONDITIONS),
                P=rng.choice(_POPULATIONS),
                O=rng.choice(_OUTCOMES),
                Q=rng.choice(_OUTCOMES),
                K=rng.choice(_COUNTRIES),
                N=rng.randrange(2, 9),
                M=rng.randrange(100, 999),
            )
        )
    text = " ".join(out)
    return text[0].upper() + text[1:]


def _hard_negative(rng: random.Random, work: dict, kind: int, surnames: list[str]) -> dict:
    """A distinct work of the given kind (0-4) that looks like ``work``, an original work."""
    other = dict(work, doi=f"10.{rng.randrange(1000, 9999)}/{rng.getrandbits(40):x}", pmid=None)
    first = rng.randrange(1, 2400)
    other["pages"] = (first, first + rng.randrange(0, 3))
    if kind == 0:
        other["title"] = "Erratum: " + work["title"]
        other["kind"] = "Erratum"
    elif kind == 1:
        other.update(
            kind="Conference Abstract",
            year=work["year"] - 1,
            volume="99",
            journal=(work["journal"][0] + " Supplement", work["journal"][1] + " Suppl"),
        )
    elif kind == 2:
        gap = rng.randrange(2, 6)
        other.update(
            title=work["title"] + f": {rng.choice((2, 3, 5, 10))}-year follow-up",
            year=work["year"] + gap,
            volume=str(int(work["volume"]) + gap),
        )
    elif kind == 3:
        other["title"] = work["title"] + " Part 2"
    else:
        other["title"] = rng.choice(_GENERIC)
        other["authors"] = [(rng.choice(surnames), rng.choice(_GIVEN), "")]
    return other


def _typo(rng: random.Random, text: str) -> str:
    k = rng.randrange(1, len(text) - 2)
    action = rng.randrange(3)
    if action == 0:
        return text[:k] + text[k + 1] + text[k] + text[k + 2 :]
    if action == 1:
        return text[:k] + text[k + 1 :]
    return text[:k] + text[k] + text[k:]


def _title_copy(rng: random.Random, title: str) -> str:
    if rng.random() < 0.25:
        title = title.upper() if rng.random() < 0.3 else title.lower()
    if rng.random() < 0.3:
        title = title.replace(":", " -").replace("?", "")
    if rng.random() < 0.3:
        title = title + "."
    if rng.random() < 0.25:
        title = _typo(rng, title)
    return title


def _authors_copy(rng: random.Random, authors: list[tuple[str, str, str]]) -> str:
    names = list(authors)
    if len(names) > 1 and rng.random() < 0.05:
        k = rng.randrange(len(names) - 1)
        names[k], names[k + 1] = names[k + 1], names[k]
    style = rng.randrange(3)
    if style == 0:
        parts = [f"{s}, {g}{' ' + m + '.' if m else ''}" for s, g, m in names]
    elif style == 1:
        parts = [f"{s}, {g[0]}.{m + '.' if m else ''}" for s, g, m in names]
    else:
        parts = [f"{s} {g[0]}{m}" for s, g, m in names]
    if len(parts) > 6 and rng.random() < 0.3:
        parts = parts[:6]  # some databases list the first authors only
    return "; ".join(parts)


def _copy(rng: random.Random, work: dict, work_id: int, database: str) -> dict[str, Any]:
    first, last = work["pages"]
    pages = f"{first}-{last}" if last > first else str(first)
    if last > first and rng.random() < 0.3 and len(str(last)) == len(str(first)):
        pages = f"{first}-{str(last)[-2:].lstrip('0') or '0'}"
    year = work["year"] + (1 if rng.random() < 0.04 else 0)  # print issue a year later
    doi = work["doi"] if rng.random() < 0.6 else None
    if doi and rng.random() < 0.2:
        doi = "https://doi.org/" + doi.upper()
    abstract = work.get("abstract") if rng.random() < 0.9 else None
    return {
        "title": _title_copy(rng, work["title"]),
        "abstract": abstract,
        "authors": _authors_copy(rng, work["authors"]),
        "year": year,
        "journal": work["journal"][1] if rng.random() < 0.4 else work["journal"][0],
        "volume": work["volume"] if rng.random() < 0.92 else None,
        "issue": work["issue"] if rng.random() < 0.8 else None,
        "pages": pages if rng.random() < 0.9 else None,
        "doi": doi,
        "pmid": work["pmid"] if database == "PubMed" or rng.random() < 0.3 else None,
        "publication_type": work["kind"],
        "database": database,
        "work_id": work_id,
    }


def simulate_records(
    n: int,
    *,
    duplicate_share: float = 0.35,
    hard_negatives: float = 0.03,
    abstract_words: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """Return ``n`` simulated bibliographic records, about ``duplicate_share`` of them
    copies of another record, with the ground truth in ``work_id``.

    Parameters
    ----------
    n : int
        Number of records (>= 1).
    duplicate_share : float
        Share of records that are copies of a work already exported (0 <= share < 0.75).
    hard_negatives : float
        Share of works that imitate another work without being it (0 <= share < 0.5):
        erratum, conference abstract, follow-up, part 2, generic title.
    abstract_words : int
        Length of the simulated abstracts in words (0: no abstracts; exports typically
        hold 200-300).
    seed : int
        Seed of the random generator: the same arguments give the same records.

    Returns
    -------
    pandas.DataFrame
        Columns record_id (``"<database>#<k>"``), title, abstract, authors (a ``"Last, First; ..."``
        string in one of three styles), year, journal, volume, issue, pages, doi, pmid,
        publication_type, database and work_id (records with one work_id are duplicates).

    Notes
    -----
    Each work is exported by ``1 + B`` databases, B binomial(3, s / (3 (1 - s))) with
    s = ``duplicate_share``, so that a share s of the records are copies. The changes per
    copy and their rates (case 25%, typo 25%, initials or full names, author order 5%,
    DOI missing 40% and as a URL 20%, ISO 4 journal abbreviation 40%, print year one later
    4%) follow what the labelled sets of the deduplication benchmark show; they are in
    ``_copy`` and ``_title_copy``.

    Examples
    --------
    >>> records = simulate_records(1000, seed=1)
    >>> len(records), records["work_id"].nunique() < 1000
    (1000, True)
    """
    if not isinstance(n, int) or n < 1:
        raise InputError(f"n = {n!r}: the number of records must be an integer >= 1")
    if not 0 <= duplicate_share < 0.75:
        raise InputError(f"duplicate_share = {duplicate_share!r}: allowed is 0 <= share < 0.75")
    if not 0 <= hard_negatives < 0.5:
        raise InputError(f"hard_negatives = {hard_negatives!r}: allowed is 0 <= share < 0.5")
    rng = random.Random(seed)
    surnames = _surnames(rng)
    journals = _journals(rng, 400)
    # Copies per work so that the share of copies is duplicate_share: mean copies = 1/(1-s).
    extra = duplicate_share / (1 - duplicate_share)
    rows: list[dict[str, Any]] = []
    works: list[dict] = []
    originals: list[int] = []
    # Each original work gets at most one imitation of each kind: two errata of one
    # article with the same title and no pages are not told apart by anyone.
    imitated: set[tuple[int, int]] = set()
    while len(rows) < n:
        source, kind = (rng.choice(originals[-1000:]), rng.randrange(5)) if originals else (0, 0)
        if originals and rng.random() < hard_negatives and (source, kind) not in imitated:
            imitated.add((source, kind))
            work = _hard_negative(rng, works[source], kind, surnames)
        else:
            work = _work(rng, surnames, journals)
            originals.append(len(works))
        if abstract_words:
            work["abstract"] = _abstract(rng, abstract_words)
        works.append(work)
        copies = 1 + sum(rng.random() < extra / 3 for _ in range(3))
        for database in rng.sample(_DATABASES, copies):
            rows.append(_copy(rng, work, len(works) - 1, database))
    frame = pd.DataFrame(rows[:n])
    counter: dict[str, int] = {}
    ids = []
    for database in frame["database"]:
        counter[database] = counter.get(database, 0) + 1
        ids.append(f"{database}#{counter[database]}")
    frame.insert(0, "record_id", ids)
    return frame
