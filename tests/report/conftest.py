"""Fixtures of the report tests: a real review store built through the public Review API
from the study-level data of Smit et al. (2022) (tests/data/peer-support and
tests/data/report, see the SOURCE.md files), its synthesis and its HTML report.

Everything is entered the way a team would enter it: studies, classification codes,
study characteristics, arm values with the scale direction, the authors' effect sizes
(Hedges' g with its SE and group sizes), data availability and the authors' RoB 2
judgements per study and outcome. One coder ("ann") coded everything, so every value is
final without consensus.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from metasift.report.html import render_report
from metasift.review import Review
from metasift.synthesis import SynthesisResults, run_analysis

DATA = Path(__file__).resolve().parents[1] / "data"
PEER = DATA / "peer-support"
REPORT = DATA / "report"
OUTCOMES = {
    "clinical_recovery": "smit2022_clinical_recovery.csv",
    "personal_recovery": "smit2022_personal_recovery.csv",
    "functional_recovery": "smit2022_functional_recovery.csv",
}
ROB2_DOMAINS = ("randomisation", "deviations", "missing_data", "measurement", "selection")
ROB2_LEVELS = {"Low risk": "low", "Some concerns": "some concerns", "High risk": "high"}
#: The dataset's msd_raw_direction: whether the authors flipped a lower-is-better scale.
DIRECTION = {"same": "higher", "reversed": "lower"}
CODER = "ann"

PROTOCOL = """
[review]
title = "Peer support for individuals with mental illness"
question = "In people with a mental illness, does peer support improve recovery?"
registration = "PROSPERO CRD00000000 (a test value)"

[team]
reviewers = ["ann", "ben", "dana"]

[eligibility]
population = "Individuals with a mental illness"
intervention = "Peer support"
comparator = "Care as usual, waitlist or another control"
outcomes = "Clinical, personal and functional recovery at post-test"
study_designs = "Randomised controlled trials"
languages = ["English"]
years = { from = 1990 }

[[databases]]
name = "PubMed"
date = 2020-12-18

[[databases]]
name = "Embase"
date = 2020-12-18

[[databases]]
name = "PsycINFO"
date = 2020-12-18

[[databases]]
name = "Reference lists"
kind = "citation"
date = 2021-01-15

[screening]
maybe = "include"

[screening.title_abstract]
arbiter = "dana"

[screening.full_text]
arbiter = "dana"
reasons = ["Not an RCT", "No peer support", "No usable outcome"]

[classification]
coders = ["ann"]
arbiter = "dana"

[classification.facets.comparator]
categories = ["CAU", "WL", "Other"]
description = "Control condition"

[classification.facets.format]
categories = ["Individual", "Group", "Mixed"]

[risk_of_bias]
tool = "rob2"
coders = ["ann"]
arbiter = "dana"

[characteristics]
coders = ["ann"]
arbiter = "dana"

[characteristics.fields.country]

[characteristics.fields.duration]
description = "Length of the intervention, as reported"

[characteristics.fields.percent_women]
type = "number"

[characteristics.fields.diagnosis_inclusion]
type = "choice"
choices = ["diagnosis", "cut-off", "other"]

[characteristics.fields.specific_group]
type = "boolean"

[outcomes.clinical_recovery]
group = "Clinical recovery"

[outcomes.personal_recovery]
group = "Personal recovery"

[outcomes.functional_recovery]
group = "Functional recovery"

[analysis]
measure = "SMD"
effects = "reported"
method = "REML"
test = "knha"
subgroups = { comparator = "pre-specified", format = "post hoc" }

[analysis.sensitivity]
leave_one_out = true

[analysis.sensitivity.without_high_risk]
exclude = { quality = ["high"] }
description = "without studies at high risk of bias"

[analysis.publication_bias]
min_studies = 10
"""

#: The counts of the paper's abstract; every other box is unknown.
PRISMA_CSV = "data,n\nrecords_screened,3455\nnew_studies,30\ntotal_studies,30\n"


def _comparison(row: pd.Series, several: bool) -> str:
    if not several:
        return ""
    return "high support" if "high" in str(row["instrument"]) else "low support"


def _outcome_row(review: Review, row: pd.Series, outcome: str, several: bool) -> None:
    study = row["study"]
    if not pd.isna(row["mean_ps"]) and not several:
        direction = DIRECTION.get(str(row["msd_raw_direction"]))
        for arm, suffix in (("peer support", "ps"), ("control", "ctrl")):
            fields = {f: row[f"{f}_{suffix}"] for f in ("mean", "sd")}
            review.extract_value(
                CODER,
                study,
                outcome,
                arm,
                n=int(row[f"n_{suffix}"]),
                **fields,
                **({"direction": direction} if direction else {}),
            )
    sizes = {k: int(row[c]) for k, c in (("n1i", "n_ps"), ("n2i", "n_ctrl")) if not pd.isna(row[c])}
    review.extract_effect(
        CODER,
        study,
        outcome,
        float(row["g"]),
        sei=float(row["g_se"]),
        comparison=_comparison(row, several),
        **sizes,
    )


def _study(review: Review, study: str, info: pd.Series, comparator: str) -> None:
    review.add_study(study)
    review.classify(CODER, study, {"comparator": comparator, "format": info["format"]})
    values = {
        "country": info["country"],
        "duration": info["duration_int"],
        "percent_women": info["percent_women"],
        "diagnosis_inclusion": info["diagnosis_inclusion"],
        "specific_group": info["specific_group"] == "Yes",
    }
    given = {k: v for k, v in values.items() if not (isinstance(v, float) and math.isnan(v))}
    review.extract_characteristics(CODER, study, given)
    review.extract_arm(CODER, study, "peer support", role="intervention")
    review.extract_arm(CODER, study, "control", role="control")


def _rob(review: Review, study: str, outcome: str, row: pd.Series) -> None:
    review.appraise(
        CODER,
        study,
        {domain: ROB2_LEVELS[row[f"D{i}"]] for i, domain in enumerate(ROB2_DOMAINS, 1)},
        outcome=outcome,
        overall=ROB2_LEVELS[row["overall"]],
        support={"overall": "the dataset authors' overall judgement"},
    )


def _rows() -> pd.DataFrame:
    frames = [pd.read_csv(PEER / name).assign(outcome=o) for o, name in OUTCOMES.items()]
    rows = pd.concat(frames, ignore_index=True)
    rob = pd.read_csv(REPORT / "metapsy_rob2.csv").drop(columns=["study", "outcome_category"])
    return rows.merge(rob, on="row_in_source", how="left", validate="one_to_one")


def build_peer_review(folder: Path) -> Path:
    """A review folder with review.toml, prisma.csv and a store of the whole dataset."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "review.toml").write_text(PROTOCOL, encoding="utf-8")
    (folder / "prisma.csv").write_text(PRISMA_CSV, encoding="utf-8")
    rows = _rows()
    info = pd.read_csv(REPORT / "metapsy_study_characteristics.csv").set_index("study")
    with Review.open(folder) as review:
        for study, block in rows.groupby("study", sort=True):
            _study(review, study, info.loc[study], block["comparator"].iloc[0])
            for outcome, mine in block.groupby("outcome", sort=True):
                for _, row in mine.iterrows():
                    _outcome_row(review, row, str(outcome), len(mine) > 1)
                review.data_availability(CODER, study, str(outcome), "usable")
                _rob(review, study, str(outcome), mine.iloc[0])
        for study in ("Asked 2019", "Lost 2017"):
            review.add_study(study)
        review.data_availability(
            CODER, "Asked 2019", "personal_recovery", "requested", "2021-02-01", "no reply"
        )
        review.data_availability(CODER, "Lost 2017", "clinical_recovery", "not_obtainable")
    return folder


@pytest.fixture(scope="session")
def peer_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built review folder (shared: tests must not change it)."""
    return build_peer_review(tmp_path_factory.mktemp("report") / "peer-support")


@pytest.fixture(scope="session")
def peer(peer_folder: Path) -> Iterator[tuple[Review, SynthesisResults]]:
    """The open review and its synthesis."""
    with Review.open(peer_folder) as review:
        yield review, run_analysis(review)


@pytest.fixture(scope="session")
def peer_html(peer: tuple[Review, SynthesisResults]) -> str:
    """The report of the review."""
    return render_report(*peer)
