"""From settled extracted values to the analysable table of one outcome: conversions to
mean/SD, checks before pooling, multi-arm handling and effect sizes, all through
:mod:`metasift.stats`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from metasift.errors import InputError
from metasift.stats import (
    arms_to_comparisons,
    effect_sizes,
    mean_sd_from_median,
    sd_from_ci,
    sd_from_se,
)

if TYPE_CHECKING:
    from metasift.review.project import Review

__all__ = ["ExtractionTable", "arm_mean_sd", "extraction_table"]


@dataclass(frozen=True)
class ExtractionTable:
    """The analysable table of one outcome.

    Attributes
    ----------
    outcome : str
        Outcome of the protocol.
    measure : str
        Effect measure of ``yi`` (``"SMD"`` by default).
    data : DataFrame
        One row per comparison: study, comparison, one column per classification facet,
        quality (the overall risk-of-bias rating), source (``arms`` or ``precomputed``),
        yi, vi and the raw columns (n1i, m1i, sd1i, n2i, m2i, sd2i or ai, n1i, ci, n2i).
    checks : DataFrame
        One row per value and problem found before pooling: study, arm, check, detail,
        excluded (whether the study was left out of the table for it).
    audit : DataFrame
        How each value became a mean and SD, and how multi-arm studies were handled.
    """

    outcome: str
    measure: str
    data: pd.DataFrame
    checks: pd.DataFrame
    audit: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.data.copy()

    def summary(self) -> str:
        """Studies, comparisons and checks in a few lines."""
        lines = [
            f"{self.outcome}: {self.data['study'].nunique()} studies, {len(self.data)} "
            f"comparisons ({self.measure})"
        ]
        for row in self.checks.itertuples(index=False):
            cut = " (excluded)" if row.excluded else ""
            lines.append(f"  {row.study} {row.arm}: {row.check}: {row.detail}{cut}")
        return "\n".join(lines)


def _get(fields: dict[str, Any], name: str) -> float | None:
    value = fields.get(name)
    return None if value is None else float(value)


def arm_mean_sd(fields: dict[str, Any]) -> tuple[float, float, str]:
    """Mean and SD of one arm from whatever was reported, and the method used.

    Notes
    -----
    In order of preference: mean with SD; mean with SE (``sd = se sqrt(n)``,
    :func:`metasift.stats.sd_from_se`); mean with a confidence interval
    (:func:`metasift.stats.sd_from_ci`, t distribution); median with quartiles and/or
    range (:func:`metasift.stats.mean_sd_from_median`, Luo et al. 2018 means, Wan et al.
    2014 SDs). Change scores are used as reported.

    Examples
    --------
    >>> arm_mean_sd({"n": 25, "mean": 10.0, "se": 0.5})
    (10.0, 2.5, 'SD from SE')
    """
    n = _get(fields, "n")
    if n is None:
        raise InputError("n is missing")
    mean, sd, se = _get(fields, "mean"), _get(fields, "sd"), _get(fields, "se")
    lb, ub = _get(fields, "ci_lb"), _get(fields, "ci_ub")
    if mean is not None and sd is not None:
        return mean, sd, "as reported"
    if mean is not None and se is not None:
        return mean, float(np.ravel(sd_from_se(se, n))[0]), "SD from SE"
    if mean is not None and lb is not None and ub is not None:
        level = _get(fields, "ci_level") or 0.95
        return mean, float(np.ravel(sd_from_ci(lb, ub, n, level))[0]), f"SD from {level:.0%} CI"
    median = _get(fields, "median")
    if median is not None:
        q1, q3 = _get(fields, "q1"), _get(fields, "q3")
        lo, hi = _get(fields, "minimum"), _get(fields, "maximum")
        has_iqr, has_range = q1 is not None and q3 is not None, lo is not None and hi is not None
        if has_iqr or has_range:
            est = mean_sd_from_median(
                median,
                n,
                q1=q1 if has_iqr else None,
                q3=q3 if has_iqr else None,
                minimum=lo if has_range else None,
                maximum=hi if has_range else None,
            )
            kind = "+".join(k for k, ok in (("IQR", has_iqr), ("range", has_range)) if ok)
            return (
                float(np.ravel(est.mean)[0]),
                float(np.ravel(est.sd)[0]),
                f"mean and SD from median and {kind}",
            )
    raise InputError("no SD, SE, CI, or median with IQR or range to convert")


def _values(values: pd.DataFrame, arms: pd.DataFrame, outcome: str) -> dict[tuple, dict]:
    """(study, arm) -> fields of the outcome's value, with the arm's role and N."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    mine = values[values["outcome"] == outcome]
    for row in mine.itertuples(index=False):
        found.setdefault((row.study, row.arm), {})[row.field] = row.value
    for (study, arm), fields in found.items():
        info = arms[(arms["study"] == study) & (arms["arm"] == arm)]
        fields["_arm"] = dict(zip(info["field"], info["value"], strict=True))
    return found


def _arm_checks(study: str, arm: str, fields: dict, converted: tuple | None) -> list[tuple]:
    problems = []
    n, meta = fields.get("n"), fields["_arm"]
    randomised = meta.get("n_randomised")
    if n is not None and randomised is not None and n > randomised:
        problems.append((study, arm, "n > randomised", f"n = {n}, randomised {randomised}", False))
    if meta.get("role") not in ("intervention", "control"):
        problems.append((study, arm, "no role", "the arm has no role", True))
    sd = fields.get("sd")
    if sd is not None and sd <= 0:
        problems.append((study, arm, "SD <= 0", f"sd = {sd}", True))
    mean, lb, ub = fields.get("mean"), fields.get("ci_lb"), fields.get("ci_ub")
    if None not in (mean, lb, ub) and not lb <= mean <= ub:
        problems.append((study, arm, "CI misses mean", f"mean {mean}, CI [{lb}, {ub}]", True))
    if converted is None and fields.get("events") is None:
        problems.append((study, arm, "not convertible", fields.get("_why", ""), True))
    return problems


def _se_like(rows: list[dict]) -> list[tuple]:
    """Flag an SD reported as such that is nearer, on the log scale, to the other studies'
    SDs once multiplied by sqrt(n): it is probably an SE."""
    problems = []
    for row in rows:
        if row["method"] != "as reported" or row["sd"] <= 0:
            continue
        others = [r["sd"] for r in rows if r["study"] != row["study"] and r["sd"] > 0]
        if len(others) < 2:
            continue
        centre = math.log(float(np.median(others)))
        as_se = abs(math.log(row["sd"] * math.sqrt(row["n"])) - centre)
        if as_se < abs(math.log(row["sd"]) - centre):
            detail = (
                f"sd = {row['sd']:g} with n = {row['n']:g}; other studies' SDs are near "
                f"{math.exp(centre):.3g}"
            )
            problems.append((row["study"], row["arm"], "SD looks like an SE", detail, False))
    return problems


def _convert(found: dict, direction: dict[str, str], wanted: str) -> tuple[list, list, list]:
    rows, audit, problems = [], [], []
    flipped: set[str] = set()
    for (study, arm), fields in found.items():
        converted = None
        try:
            converted = arm_mean_sd(fields)
        except InputError as error:
            fields["_why"] = str(error)
        problems += _arm_checks(study, arm, fields, converted)
        mean, sd, method = converted or (math.nan, math.nan, "")
        reported = direction.get(study, "")
        if converted and reported and reported != wanted:
            mean = -mean
            method += "; sign reversed"
            if study not in flipped:
                detail = f"scale: {reported} is better, protocol: {wanted}; means negated"
                problems.append((study, "", "scale direction", detail, False))
                flipped.add(study)
        role, n = fields["_arm"].get("role"), fields.get("n")
        rows.append(
            {"study": study, "arm": arm, "role": role, "n": n, "mean": mean, "sd": sd}
            | {"events": fields.get("events"), "method": method}
        )
        audit.append({"study": study, "arm": arm, "action": method or "not converted"})
    return rows, audit, problems


def _codes(review: Review, studies: pd.Series) -> pd.DataFrame:
    codes = review.classification_table()
    quality = pd.Series(dtype=object)
    if review.protocol.risk_of_bias.tool:
        quality = review.appraisal_table().set_index("study")["overall"]
    return pd.DataFrame(
        {facet: studies.map(codes[facet]) for facet in codes.columns}
        | {"quality": studies.map(quality)}
    )


def extraction_table(
    review: Review, outcome: str, measure: str = "SMD", multi_arm: str | None = None
) -> ExtractionTable:
    """The analysable table of ``outcome`` from the settled extraction of every study.

    Parameters
    ----------
    review : Review
        An open review.
    outcome : str
        An outcome of ``[outcomes]`` in review.toml.
    measure : str, default "SMD"
        Effect measure for :func:`metasift.effect_sizes` (``"SMD"``, ``"MD"``, or for
        events ``"OR"``, ``"RR"``, ``"RD"``).
    multi_arm : {"combine", "split"}, optional
        Multi-arm rule; default ``[analysis] multi_arm`` of the protocol, else "combine".

    Notes
    -----
    Each arm's value becomes a mean and SD by :func:`arm_mean_sd`; a study whose scale runs
    the other way from the protocol's direction has its means negated. Multi-arm studies
    go through :func:`metasift.stats.arms_to_comparisons` (Cochrane Handbook 6.5.2.10 and
    23.3.4) and effects through :func:`metasift.effect_sizes`; precomputed effects (``yi``,
    ``vi``) of studies without arm values are added as they are when their measure matches.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from metasift.review import Review
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> review = Review.create(folder)
    >>> text = (folder / "review.toml").read_text()
    >>> text = text.replace("[characteristics]", '[characteristics]\\ncoders = ["ann"]')
    >>> text = text.replace("[outcomes]", '[outcomes.recovery]\\ndirection = "higher"')
    >>> _ = (folder / "review.toml").write_text(text)
    >>> review.close()
    >>> review = Review.open(folder)
    >>> _ = review.add_study("Lee 2019")
    >>> for arm, role, mean, se in (("peer", "intervention", 22.0, 0.8), ("tau", "control",
    ...                                                                  20.0, 1.0)):
    ...     _ = review.extract_arm("ann", "Lee 2019", arm, role=role, n_randomised=40)
    ...     _ = review.extract_value("ann", "Lee 2019", "recovery", arm, n=36, mean=mean, se=se)
    >>> table = extraction_table(review, "recovery")
    >>> table.data[["study", "n1i", "sd1i", "yi"]].round(4)
          study   n1i  sd1i      yi
    0  Lee 2019  36.0   4.8  0.3641
    >>> review.close()
    """
    spec = review.protocol.outcomes.get(outcome)
    if spec is None:
        raise InputError(f"outcome {outcome!r} is not in [outcomes] of review.toml")
    how = multi_arm or str(review.protocol.analysis.get("multi_arm", "combine"))
    finals = review.extraction_values()
    meta = finals[(finals["table"] == "outcome") & (finals["outcome"] == outcome)]
    direction = dict(
        meta.loc[meta["field"] == "direction", ["study", "value"]].itertuples(index=False)
    )
    found = _values(finals[finals["table"] == "value"], finals[finals["table"] == "arm"], outcome)
    rows, audit, problems = _convert(
        found, {k: v for k, v in direction.items() if v}, spec.direction
    )
    rows_ok = [r for r in rows if r["method"] and r["n"]]
    problems += _se_like(rows_ok)
    checks = pd.DataFrame(problems, columns=["study", "arm", "check", "detail", "excluded"])
    out = set(checks.loc[checks["excluded"], "study"])
    binary = measure.upper() in ("OR", "RR", "RD")
    keep = pd.DataFrame([r for r in rows if r["study"] not in out])
    if binary:
        keep = pd.DataFrame([r for r in rows if r["events"] is not None and r["study"] not in out])
    table, multi_audit = _comparisons(keep, how, measure, binary)
    table = pd.concat([table, _precomputed(finals, outcome, measure, set(table.get("study", [])))])
    table = table.reset_index(drop=True).astype({"yi": float, "vi": float})
    codes = _codes(review, table["study"]) if len(table) else pd.DataFrame()
    first = ["study", "comparison"]
    data = pd.concat([table[first], codes, table.drop(columns=first)], axis=1)
    return ExtractionTable(
        outcome, measure.upper(), data, checks, pd.concat([pd.DataFrame(audit), multi_audit])
    )


def _comparisons(
    arms: pd.DataFrame, how: str, measure: str, binary: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if arms.empty:
        return pd.DataFrame(columns=["study", "comparison", "yi", "vi"]), pd.DataFrame()
    columns = ["study", "arm", "role", "n", "events" if binary else "mean"]
    frame = arms[columns + ([] if binary else ["sd"])].astype({"n": float})
    multi = arms_to_comparisons(frame, how=how, outcome="binary" if binary else "continuous")
    comp = multi.comparisons
    names = ("ai", "n1i", "ci", "n2i") if binary else ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
    es = effect_sizes(measure, data=comp, **{k: k for k in names})
    return comp.assign(source="arms", yi=es.yi, vi=es.vi), multi.audit


def _precomputed(finals: pd.DataFrame, outcome: str, measure: str, done: set) -> pd.DataFrame:
    mine = finals[(finals["table"] == "effect") & (finals["outcome"] == outcome)]
    rows = []
    for study, block in mine.groupby("study", sort=False):
        fields = dict(zip(block["field"], block["value"], strict=True))
        if study in done or fields.get("yi") is None or fields.get("vi") is None:
            continue
        if str(fields.get("measure", "")).upper() != measure.upper():
            continue
        rows.append(
            {"study": study, "comparison": "as reported", "source": "precomputed"}
            | {"yi": float(fields["yi"]), "vi": float(fields["vi"])}
        )
    return pd.DataFrame(rows, columns=["study", "comparison", "source", "yi", "vi"])
