"""Units of extracted values: conversion to the unit the protocol declares for an outcome
(``[outcomes.NAME] unit`` and ``factors``) before pooling, and the checks when a unit
cannot be converted.

A mean difference is on the outcome's scale, so every study must be in one unit: a study
whose unit cannot be converted is left out of an MD table. A standardised mean difference
(and a ratio of means) is free of the unit when both arms share it, so such a study stays
in an SMD table with a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metasift.review.protocol import OutcomeSpec

__all__ = ["SCALED", "UNIT_MEASURES", "convert_units", "effect_factor", "unit_factor"]

#: Fields of a value that are on the outcome's scale (multiplied by the factor).
SCALED = ("mean", "sd", "se", "ci_lb", "ci_ub", "median", "q1", "q3", "minimum", "maximum")
#: Measures whose effect is on the outcome's scale, so that units must agree.
UNIT_MEASURES = ("MD",)

Problem = tuple[str, str, str, str, bool]


def unit_factor(unit: str, spec: OutcomeSpec) -> float | None:
    """The factor that turns a value in ``unit`` into the outcome's unit: 1 for the
    outcome's own unit (or a value without a unit, or an outcome without a declared unit),
    the protocol's factor for a listed unit, None otherwise.

    Examples
    --------
    >>> spec = OutcomeSpec(unit="mmol/L", factors={"mg/dL": 0.0555})
    >>> unit_factor("mg/dl", spec), unit_factor("mmol/L", spec), unit_factor("g/L", spec)
    (0.0555, 1.0, None)
    """
    found = str(unit or "").strip().casefold()
    if not found or not spec.unit or found == spec.unit.strip().casefold():
        return 1.0
    for name, factor in spec.factors.items():
        if name.strip().casefold() == found:
            return float(factor)
    return None


def _units(
    found: Mapping[tuple[str, str], dict[str, Any]], legacy: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """study -> {arm: unit}: each value's own unit, else the study's outcome-level unit."""
    by_study: dict[str, dict[str, str]] = {}
    for (study, arm), fields in found.items():
        unit = str(fields.get("unit") or legacy.get(study) or "").strip()
        by_study.setdefault(study, {})[arm] = unit
    return by_study


def _scale(fields: dict[str, Any], factor: float) -> None:
    for name in SCALED:
        if fields.get(name) is not None:
            fields[name] = float(fields[name]) * factor


def convert_units(
    found: dict[tuple[str, str], dict[str, Any]],
    spec: OutcomeSpec,
    legacy: Mapping[str, str],
    measure: str,
) -> tuple[list[dict[str, str]], list[Problem]]:
    """Convert every arm's values to the outcome's unit in place; return the audit rows
    and the checks (a study left out of an MD table, or kept with a note for SMD).

    Notes
    -----
    A value in unit ``u`` becomes ``x * factor[u]`` for means, SDs, SEs, confidence limits,
    medians, quartiles and ranges (all scale linearly, so the later conversions to mean
    and SD are unchanged in form). Without a declared unit nothing is converted, but the
    arms of one study must share their unit.

    Examples
    --------
    >>> spec = OutcomeSpec(unit="mmol/L", factors={"mg/dL": 0.0555})
    >>> found = {("A", "peer"): {"n": 30, "mean": 110.0, "se": 3.0, "unit": "mg/dL"},
    ...          ("A", "tau"): {"n": 31, "mean": 6.8, "sd": 1.4, "unit": "mmol/L"}}
    >>> audit, problems = convert_units(found, spec, {}, "MD")
    >>> round(found["A", "peer"]["mean"], 4), round(found["A", "peer"]["se"], 4)
    (6.105, 0.1665)
    >>> audit[0]["action"], problems
    ('unit converted: mg/dL -> mmol/L (x 0.0555)', [])
    """
    audit: list[dict[str, str]] = []
    problems: list[Problem] = []
    target = spec.unit.strip()
    for study, units in _units(found, legacy).items():
        distinct = {u.casefold() for u in units.values() if u}
        factors = {arm: unit_factor(u, spec) for arm, u in units.items()}
        if not target and len(distinct) > 1:
            problems.append((study, "", "units differ", _differ(units), True))
            continue
        if any(f is None for f in factors.values()):
            problems.append(_unconvertible(study, units, target, measure, len(distinct) <= 1))
            continue
        for arm, factor in factors.items():
            if not target:
                continue
            if not units[arm]:
                action = f"no unit given: taken as {target}"
            elif factor != 1.0:
                _scale(found[study, arm], float(factor))  # type: ignore[arg-type]
                action = f"unit converted: {units[arm]} -> {target} (x {factor:g})"
            else:
                continue
            audit.append({"study": study, "arm": arm, "action": action})
    if not target and measure in UNIT_MEASURES:
        problems += _across(_units(found, legacy))
    return audit, problems


def _differ(units: Mapping[str, str]) -> str:
    listed = ", ".join(f"{arm}: {u or 'none'}" for arm, u in units.items())
    return f"arms in different units ({listed}); declare the outcome's unit and factors"


def _unconvertible(
    study: str, units: Mapping[str, str], target: str, measure: str, shared: bool
) -> Problem:
    unit = next(u for u in units.values() if u)
    if measure in UNIT_MEASURES or not shared:
        detail = (
            f"unit {unit!r} cannot be converted to {target!r}: add it to the outcome's "
            f"factors in review.toml; left out of the {measure} table"
        )
        return (study, "", "unit not convertible", detail, True)
    detail = (
        f"unit {unit!r} cannot be converted to {target!r}; kept for {measure}, which does "
        "not depend on the unit as both arms share it"
    )
    return (study, "", "unit not convertible", detail, False)


def _across(units: Mapping[str, Mapping[str, str]]) -> list[Problem]:
    """A note per study when studies use different units and none is declared."""
    per_study = {s: next((u for u in us.values() if u), "") for s, us in units.items()}
    if len({u.casefold() for u in per_study.values() if u}) <= 1:
        return []
    return [
        (study, "", "units differ between studies", f"{unit}: declare the outcome's unit", False)
        for study, unit in per_study.items()
        if unit
    ]


def effect_factor(unit: str, spec: OutcomeSpec, measure: str) -> float | None:
    """The factor for a precomputed effect: 1 for measures free of the unit, the unit's
    factor for a mean difference (``yi * f``, ``vi * f**2``), None when not convertible.

    Examples
    --------
    >>> spec = OutcomeSpec(unit="mmol/L", factors={"mg/dL": 0.0555})
    >>> effect_factor("mg/dL", spec, "MD"), effect_factor("mg/dL", spec, "SMD")
    (0.0555, 1.0)
    """
    if measure.upper() not in UNIT_MEASURES:
        return 1.0
    return unit_factor(unit, spec)
