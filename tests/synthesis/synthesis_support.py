"""Review stores for the synthesis and report tests, built through the public Review API.

Two real data sets are entered as a review team would enter them:

- ``bcg``: the 13 BCG vaccine trials of metafor's ``dat.bcg`` (tests/data/metafor, from
  the metadat package): arms with events, the allocation method as a classification
  facet, the absolute latitude as a characteristics field, and risk-of-bias judgements.
  metafor 3.8-1's results on them are in tests/data/metafor/metafor_reference.json.
- ``smit``: personal recovery in the peer-support trials of Smit et al. (2022)
  (tests/data/peer-support, the authors' Metapsy dataset): the authors' Hedges' g and
  standard errors as reported effects, Rogers 2016 with two labelled comparisons, and
  the comparator (CAU, WL, Other) as a classification facet.

The allocation facet declares a fourth category, "cluster", that no trial has: its cells
are "not applicable" with no comparisons.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from metasift.review import Review, write_template

DATA = Path(__file__).parents[1] / "data"

#: The test review's team: one coder per section and an arbiter.
_ROLES = 'coders = ["ann"]\narbiter = "dana"\n'

BCG_SECTIONS = f"""[classification]
{_ROLES}[classification.facets.alloc]
categories = ["random", "alternate", "systematic", "cluster"]
[classification.facets.era]
categories = ["before 1960", "1960 on"]
[risk_of_bias]
{_ROLES}[characteristics]
{_ROLES}[characteristics.fields.latitude]
type = "number"
[characteristics.fields.country]
type = "text"
[outcomes.tuberculosis]
group = "infection"
direction = "lower"
"""

SMIT_SECTIONS = f"""[classification]
{_ROLES}[classification.facets.comparator]
categories = ["CAU", "WL", "Other"]
[risk_of_bias]
{_ROLES}[characteristics]
{_ROLES}[outcomes.personal_recovery]
group = "personal recovery"
direction = "higher"
"""

#: Modified Cochrane judgements (7 domains) by pattern letter: l(ow), u(nclear), h(igh).
_NAMES = {"l": "low", "u": "unclear", "h": "high"}


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts of text."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_review_toml(folder: Path, sections: str, analysis: str, database_url: str = "") -> Path:
    """The protocol template with ``sections`` for classification .. outcomes,
    ``analysis`` as the whole ``[analysis]`` part and the store's URL ("": SQLite)."""
    path = write_template(folder, "Synthesis test review")
    text = path.read_text(encoding="utf-8")
    text = text.replace('database_url = ""', f'database_url = "{database_url}"')
    text = text.replace(
        "[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n", sections
    )
    head = text.split("\n[analysis]\n")[0]
    path.write_text(f"{head}\n{analysis}", encoding="utf-8")
    return path


def set_analysis(folder: Path, analysis: str) -> None:
    """Replace the ``[analysis]`` part of the review.toml in ``folder``."""
    path = folder / "review.toml"
    head = path.read_text(encoding="utf-8").split("\n[analysis]\n")[0]
    path.write_text(f"{head}\n{analysis}", encoding="utf-8")


def bcg_rows() -> list[dict[str, Any]]:
    """dat.bcg: trial, author, year, tpos, tneg, cpos, cneg, ablat, alloc."""
    rows = read_csv(DATA / "metafor" / "dat.bcg.csv")
    for row in rows:
        row["study"] = f"{row['author']} {row['year']} ({row['trial']})"
    return rows


def build_bcg(
    folder: Path, analysis: str = "[analysis]\n", rob: dict[str, str] | None = None
) -> Path:
    """A review of dat.bcg in ``folder``; ``rob`` maps study -> a 7-letter pattern."""
    write_review_toml(folder, BCG_SECTIONS, analysis)
    domains = None
    with Review.open(folder) as review:
        domains = [d.key for d in review.appraisal_tool.domains]
        for row in bcg_rows():
            study = row["study"]
            review.add_study(study)
            tpos, tneg, cpos, cneg = (int(row[k]) for k in ("tpos", "tneg", "cpos", "cneg"))
            review.extract_arm("ann", study, "vaccine", role="intervention")
            review.extract_arm("ann", study, "control", role="control")
            review.extract_value(
                "ann", study, "tuberculosis", "vaccine", n=tpos + tneg, events=tpos
            )
            review.extract_value(
                "ann", study, "tuberculosis", "control", n=cpos + cneg, events=cpos
            )
            era = "before 1960" if int(row["year"]) < 1960 else "1960 on"
            review.classify("ann", study, {"alloc": row["alloc"], "era": era})
            review.extract_characteristics("ann", study, {"latitude": float(row["ablat"])})
            pattern = (rob or {}).get(study)
            if pattern:
                judgements = {d: _NAMES[v] for d, v in zip(domains, pattern, strict=True)}
                review.appraise("ann", study, judgements)
    return folder


def smit_rows() -> list[dict[str, str]]:
    """Personal recovery rows of Smit et al. (2022)."""
    return read_csv(DATA / "peer-support" / "smit2022_personal_recovery.csv")


def _int(text: str) -> int | None:
    return None if text in ("", "NA") else int(float(text))


def build_smit(folder: Path, analysis: str = "[analysis]\n", database_url: str = "") -> Path:
    """A review of Smit et al.'s personal recovery data in ``folder``."""
    write_review_toml(folder, SMIT_SECTIONS, analysis, database_url)
    rows = smit_rows()
    with Review.open(folder) as review:
        for row in rows:
            study = row["study"]
            if study not in set(review.studies()["study"]):
                review.add_study(study)
                review.classify("ann", study, {"comparator": row["comparator"]})
            label = ""
            if sum(r["study"] == study for r in rows) > 1:
                label = row["instrument"]
            review.extract_effect(
                "ann",
                study,
                "personal_recovery",
                float(row["g"]),
                sei=float(row["g_se"]),
                comparison=label,
                n1i=_int(row["n_ps"]),
                n2i=_int(row["n_ctrl"]),
            )
    return folder
