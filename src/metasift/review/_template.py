"""The commented ``review.toml`` template that ``metasift init`` writes."""

from __future__ import annotations

from pathlib import Path

from metasift.errors import InputError

__all__ = ["TEMPLATE", "write_template"]

TEMPLATE = """\
# review.toml: the protocol of this review, read by every metasift command.
# Edit it before importing records. Lines starting with # are comments.
# Changing it later is allowed as long as no recorded decision would lose its meaning
# (a reviewer, a reason or a database that decisions or records refer to must stay).

[review]
title = "{title}"
question = "In adults with ..., does ... compared with ... improve ...?"
registration = ""                      # e.g. "PROSPERO CRD42020000000"

[team]
# Everyone who screens or arbitrates, by the name they type in `--reviewer NAME`.
reviewers = ["ann", "ben", "cleo", "dana"]

[eligibility]
population = "Adults (18+) with a mental illness"
intervention = "..."
comparator = "Treatment as usual, waitlist or an active control"
outcomes = "..."
study_designs = "Randomised controlled trials"
# Pre-screening filters. Records outside them are PROPOSED for exclusion with that reason
# and shown to the team (`metasift prefilter`); nothing is excluded without a person.
languages = ["English"]                # empty list: any language
years = {{ from = 1980 }}                # add `to = 2024` to close the range
# Words highlighted while screening; a trailing * matches any ending.
keywords = {{ include = ["random*", "trial"], exclude = ["protocol", "review"] }}

# One [[databases]] table per source searched. kind is database, register, website,
# organisation or citation (the boxes of the PRISMA 2020 flow diagram).
# `metasift import FILE --database NAME` needs NAME to be declared here.
[[databases]]
name = "PubMed"
kind = "database"
date = 2024-01-31
query = "..."

[[databases]]
name = "PsycInfo"
kind = "database"
date = 2024-01-31
query = "..."

[[databases]]
name = "Citation searching"
kind = "citation"

[screening]
# What "maybe" means: "include" (goes on to the next stage like an include) or
# "conflict" (always sent to the arbiter).
maybe = "include"

[screening.title_abstract]
# assignment "all": every screener screens every record.
# assignment "balanced": each record goes to reviewers_per_record screeners, shared evenly.
screeners = ["ann", "ben", "cleo"]     # default: the whole team but the arbiter
assignment = "all"
reviewers_per_record = 3
arbiter = "dana"
reasons = []                           # optional at this stage

[screening.full_text]
screeners = ["ann", "ben"]
assignment = "all"
reviewers_per_record = 2
arbiter = "dana"
# Every full-text exclusion needs one of these reasons (they become the PRISMA box).
reasons = [
  "Wrong population",
  "Wrong intervention",
  "Wrong comparator",
  "Wrong study design",
  "No usable outcome data",
]

[store]
# Empty: a SQLite file metasift.db in this folder. For a team server, a PostgreSQL URL
# such as "postgresql+psycopg://user@host/review"; ${{VAR}} is read from the environment.
database_url = ""

# Filled by later steps of the review: classification facets, risk-of-bias tool,
# study characteristics, outcomes and the analysis plan.
[classification]
[risk_of_bias]
[characteristics]
[outcomes]

[analysis]
# The analysis plan: `metasift run` meta-analyses every outcome of [outcomes] for all
# studies and for each category of each subgroup facet, with these settings.
measure = "SMD"                        # SMD, MD, ROM (means and SDs) or OR, RR, RD (events)
smd_convention = "metafor"             # SMD: metafor (Hedges' g, exact J), revman5 or cma
effects = "arms"                       # arms: computed from arm values (a study's own
                                       # reported effect only when it has none);
                                       # reported: a study's reported effects first
method = "REML"                        # tau^2: REML, ML, DL, PM, EB, HE, HS, SJ, ... or EE
test = "z"                             # z, or knha (Hartung-Knapp), or adhoc (HK, never
                                       # narrower than z)
prediction_interval = true
level = 0.95
i2 = "q"                               # q: I^2 = (Q - df) / Q (RevMan, R meta); tau2: metafor
min_studies = 2                        # fewer comparisons in a cell: "not applicable"
multi_arm = "combine"                  # combine the intervention arms, or split the control
comparators = "together"               # together, or apart: every analysis is run within
comparator_facet = "comparator"        # each category of this [classification.facets] facet
# Subgroup facets of [classification.facets], or the outcome fields "instrument" and
# "construct": a list (pre-specified), or a table saying which are post hoc, e.g.
# subgroups = {{ setting = "pre-specified", format = "post hoc" }}.
# Left out: every facet, as pre-specified; [] for none.
# subgroups = ["setting"]
subgroup_tau2 = "separate"             # separate: tau^2 per subgroup; common: one shared

[analysis.sensitivity]
leave_one_out = true
# A named set leaves out the studies whose "quality", facet or characteristics field has
# one of the values listed ("" matches a study with no value):
# [analysis.sensitivity.without_poor_quality]
# exclude = {{ quality = ["poor"] }}
# description = "Studies rated poor quality left out"

[analysis.publication_bias]
min_studies = 10                       # fewer comparisons: "not assessed"
tests = ["egger", "begg", "trim_and_fill"]

# Overrides for one outcome or for every outcome of a construct group ([outcomes] group);
# only the keys given replace the plan's, e.g.
# [analysis.outcomes.hospital_admission]
# measure = "RR"
# [analysis.groups."personal recovery"]
# test = "knha"
"""


def write_template(folder: str | Path, title: str = "Untitled review") -> Path:
    """Write the commented protocol template to ``folder/review.toml`` and return its path.

    Raises
    ------
    InputError
        A ``review.toml`` exists already (it is never overwritten), or ``title`` holds a
        double quote or a line break.

    Examples
    --------
    >>> import tempfile
    >>> from metasift.review.protocol import load_protocol
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     protocol = load_protocol(write_template(folder, "Peer support"))
    >>> protocol.review.title, protocol.reviewers_per_record("title_abstract")
    ('Peer support', 3)
    """
    if any(c in title for c in '"\\\n\r'):
        raise InputError(f"title {title!r}: a title cannot hold quotes, backslashes or breaks")
    target = Path(folder) / "review.toml"
    if target.exists():
        raise InputError(f"{str(target)!r} exists already; it is never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(TEMPLATE.format(title=title), encoding="utf-8")
    return target
