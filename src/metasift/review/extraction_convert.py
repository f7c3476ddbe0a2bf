"""From the settled values of one outcome to a mean and SD per arm: conversions through
:mod:`metasift.stats`, the checks made before pooling and the reversal of scales that run
the other way from the protocol."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from metasift.errors import InputError
from metasift.stats import mean_sd_from_median, sd_from_ci, sd_from_se

__all__ = ["arm_mean_sd", "convert_arms", "outcome_values", "se_like"]


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


def outcome_values(values: pd.DataFrame, arms: pd.DataFrame, outcome: str) -> dict[tuple, dict]:
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


def se_like(rows: list[dict], instruments: dict[str, str] | None = None) -> list[tuple]:
    """Flag an SD reported as such that is nearer, on the log scale, to the other studies'
    SDs once multiplied by sqrt(n): it is probably an SE.

    SDs are compared only among studies that used the same instrument (``instruments``:
    study -> instrument, compared without case; studies with no instrument recorded form
    one group): SDs of different scales say nothing about each other."""
    problems = []
    scale = {k: " ".join(str(v).split()).casefold() for k, v in (instruments or {}).items()}
    for row in rows:
        if row["method"] != "as reported" or row["sd"] <= 0:
            continue
        mine = scale.get(row["study"], "")
        others = [
            r["sd"]
            for r in rows
            if r["study"] != row["study"] and r["sd"] > 0 and scale.get(r["study"], "") == mine
        ]
        if len(others) < 2:
            continue
        centre = math.log(float(np.median(others)))
        as_se = abs(math.log(row["sd"] * math.sqrt(row["n"])) - centre)
        if as_se < abs(math.log(row["sd"]) - centre):
            detail = (
                f"sd = {row['sd']:g} with n = {row['n']:g}; other studies' SDs on this "
                f"instrument are near "
                f"{math.exp(centre):.3g}"
            )
            problems.append((row["study"], row["arm"], "SD looks like an SE", detail, False))
    return problems


def convert_arms(found: dict, direction: dict[str, str], wanted: str) -> tuple[list, list, list]:
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
