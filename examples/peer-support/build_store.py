"""Build the worked example's store (metasift.db) from the study-level data in data/.

Every value enters through metasift's public review API, the way a team's coders would
enter it: studies, classification codes, study characteristics, arm values with the scale
direction, the authors' effect sizes (Hedges' g and its SE), data availability and the
RoB 2 judgements per study and outcome. One coder ("metapsy", the dataset's authors) coded
everything, so every value is final without consensus.

Run ``python build_store.py [FOLDER]``; an existing metasift.db in FOLDER is replaced.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd

from metasift.review import Review

HERE = Path(__file__).resolve().parent
CODER = "metapsy"
OUTCOMES = {
    "clinical_recovery": "smit2022_clinical_recovery.csv",
    "personal_recovery": "smit2022_personal_recovery.csv",
    "functional_recovery": "smit2022_functional_recovery.csv",
}
# The dataset's msd_raw_direction says whether the authors flipped the sign of the mean
# difference to make positive g favour peer support, i.e. whether lower scores are better.
DIRECTION = {"same": "higher", "reversed": "lower"}
ROB2_DOMAINS = ("randomisation", "deviations", "missing_data", "measurement", "selection")
ROB2_LEVELS = {"Low risk": "low", "Some concerns": "some concerns", "High risk": "high"}
POPULATION = {"SMI": "SMI", "depression": "depression", "other": "other"}


def _number(value: object) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _rows(data: Path) -> pd.DataFrame:
    frames = []
    for outcome, name in OUTCOMES.items():
        frame = pd.read_csv(data / name)
        frames.append(frame.assign(outcome=outcome))
    rows = pd.concat(frames, ignore_index=True)
    rob = pd.read_csv(data / "metapsy_rob2.csv").drop(columns=["study", "outcome_category"])
    return rows.merge(rob, on="row_in_source", how="left", validate="one_to_one")


def _study(review: Review, study: str, info: pd.Series, comparator: str) -> None:
    review.add_study(study)
    review.classify(
        CODER,
        study,
        {
            "comparator": comparator,
            "format": info["format"],
            "delivery": info["delivery2"],
            "population": POPULATION[info["disorder"]],
        },
    )
    fields = {
        "country": info["country"],
        "diagnosis_inclusion": info["diagnosis_inclusion"],
        "recruitment": info["recruitment"],
        "setting": info["in_out_patients"],
        "percent_women": info["percent_women"],
        "mean_age": info["mean_age"],
        "duration": info["duration_int"],
        "structure": info["structure_intervention"],
        "specific_group": info["specific_group"] == "Yes",
        "perinatal": info["perinatal"] == "Yes",
    }
    clean = {k: v for k, v in fields.items() if _number(v) is not None and v != ""}
    review.extract_characteristics(CODER, study, clean)
    review.extract_arm(CODER, study, "peer support", role="intervention")
    review.extract_arm(CODER, study, "control", role="control")


def _comparison(row: pd.Series, several: bool) -> str:
    """Label of one of several comparisons of a study (Rogers 2016: high / low support)."""
    if not several:
        return ""
    instrument = str(row["instrument"])
    return "high support" if "high" in instrument else "low support"


def _outcome_row(review: Review, row: pd.Series, several: bool) -> None:
    study, outcome = row["study"], row["outcome"]
    has_msd = not pd.isna(row["mean_ps"]) and not several
    if has_msd:
        direction = DIRECTION.get(str(row["msd_raw_direction"]), "")
        for arm, suffix in (("peer support", "ps"), ("control", "ctrl")):
            review.extract_value(
                CODER,
                study,
                outcome,
                arm,
                n=int(row[f"n_{suffix}"]),
                mean=float(row[f"mean_{suffix}"]),
                sd=float(row[f"sd_{suffix}"]),
                instrument=row["instrument"],
                construct=row["outcome_subcategory"],
                timepoint=f"{row['time_weeks']:g} (time_weeks)",
                **({"direction": direction} if direction else {}),
            )
    if not has_msd:  # the outcome's construct is recorded with the arm values otherwise
        review.extract_value(
            CODER, study, outcome, "peer support", construct=row["outcome_subcategory"]
        )
    sizes = {
        name: int(row[col])
        for name, col in (("n1i", "n_ps"), ("n2i", "n_ctrl"))
        if not pd.isna(row[col])
    }
    review.extract_effect(
        CODER,
        study,
        outcome,
        yi=float(row["g"]),
        sei=float(row["g_se"]),
        measure="SMD",
        comparison=_comparison(row, several),
        **sizes,
    )


def _rob(review: Review, row: pd.Series) -> None:
    judgements = {
        domain: ROB2_LEVELS[row[f"D{i}"]] for i, domain in enumerate(ROB2_DOMAINS, start=1)
    }
    review.appraise(
        CODER,
        row["study"],
        judgements,
        support={"overall": "The overall judgement of the dataset's authors (overall_RoB)."},
        outcome=row["outcome"],
        overall=ROB2_LEVELS[row["overall"]],
    )


def build(folder: Path = HERE) -> Path:
    """Create ``folder/metasift.db`` from ``folder/data`` and return its path."""
    data = folder / "data"
    target = folder / "metasift.db"
    for stale in folder.glob("metasift.db*"):
        stale.unlink()
    rows = _rows(data)
    studies = pd.read_csv(data / "metapsy_study_characteristics.csv").set_index("study")
    with Review.open(folder) as review:
        for study, block in rows.groupby("study", sort=True):
            _study(review, study, studies.loc[study], block["comparator"].iloc[0])
            for outcome, mine in block.groupby("outcome", sort=True):
                several = len(mine) > 1
                for _, row in mine.iterrows():
                    _outcome_row(review, row, several)
                review.data_availability(CODER, study, outcome, "usable")
                _rob(review, mine.iloc[0])
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE))
