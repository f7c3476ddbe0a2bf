"""From settled extracted values to the analysable table of one outcome: conversions to
mean/SD, checks before pooling, multi-arm handling and effect sizes, all through
:mod:`metasift.stats`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from metasift.errors import InputError
from metasift.review import multi_arm_audit
from metasift.review.analysis_plan import OUTCOME_SUBGROUPS
from metasift.review.extraction_convert import arm_mean_sd, convert_arms, outcome_values, se_like
from metasift.review.extraction_units import convert_units, effect_factor
from metasift.review.protocol import OutcomeSpec, Protocol
from metasift.stats import arms_to_comparisons, effect_sizes
from metasift.stats.effects import CONVENTIONS

if TYPE_CHECKING:
    from metasift.review.project import Review

__all__ = ["ExtractionTable", "analysis_setting", "arm_mean_sd", "extraction_table"]


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
        instrument and construct (the study's outcome-level fields), quality (the overall
        risk-of-bias rating), source (``arms`` or ``precomputed``), yi, vi and the raw
        columns (n1i, m1i, sd1i, n2i, m2i, sd2i or ai, n1i, ci, n2i).
    checks : DataFrame
        One row per value and problem found before pooling: study, arm, check, detail,
        excluded (whether the study was left out of the table for it).
    audit : DataFrame
        How each value became a mean and SD, and how multi-arm studies were handled.
    multi_arm : {"combine", "split"}
        The multi-arm rule used.
    effects : {"arms", "reported"}
        Which a study's effect came from first.
    """

    outcome: str
    measure: str
    data: pd.DataFrame
    checks: pd.DataFrame
    audit: pd.DataFrame
    multi_arm: str = "combine"
    effects: str = "arms"

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


#: Where ``effects`` and ``multi_arm`` come from when not given, and the values allowed.
EFFECTS = ("arms", "reported")
MULTI_ARM = ("combine", "split")
_BINARY = ("OR", "RR", "RD")
_RAW = {False: ["m1i", "sd1i", "m2i", "sd2i"], True: ["ai", "bi", "ci", "di"]}


def analysis_setting(protocol: Protocol, name: str, default: str, outcome: str = "") -> str:
    """A setting of the protocol's analysis plan for ``outcome`` (with the overrides of its
    construct group and its own), or ``default`` when it is not set.

    Examples
    --------
    >>> from metasift.review.protocol import parse_protocol
    >>> protocol = parse_protocol('''
    ... [review]
    ... title = "x"
    ... [team]
    ... reviewers = ["ann", "dana"]
    ... [screening.title_abstract]
    ... arbiter = "dana"
    ... [outcomes.mood]
    ... [analysis]
    ... effects = "reported"
    ... [analysis.outcomes.mood]
    ... effects = "arms"
    ... ''')
    >>> analysis_setting(protocol, "effects", "arms"), analysis_setting(protocol, "effects",
    ...                                                                  "arms", "mood")
    ('reported', 'arms')
    """
    plan: Any = protocol.analysis
    if outcome:
        spec = protocol.outcomes.get(outcome)
        plan = plan.settings(outcome, spec.group if spec is not None else "")
    value = getattr(plan, name, None)
    return default if value in (None, "") else str(value)


def _choice(
    value: str | None, protocol: Any, name: str, allowed: tuple[str, ...], outcome: str
) -> str:
    found = (value or analysis_setting(protocol, name, allowed[0], outcome)).strip().lower()
    if found not in allowed:
        source = f"{name}" if value else f"[analysis] {name} of review.toml"
        raise InputError(f"{source} = {found!r}: use one of {list(allowed)}")
    return found


def _outcome_fields(finals: pd.DataFrame, outcome: str) -> dict[str, dict[str, str]]:
    """Field -> study -> settled value of the outcome-level fields that can define
    subgroups (instrument, construct); empty values are left out."""
    meta = finals[(finals["table"] == "outcome") & (finals["outcome"] == outcome)]
    found: dict[str, dict[str, str]] = {}
    for field in OUTCOME_SUBGROUPS:
        rows = meta.loc[meta["field"] == field, ["study", "value"]]
        found[field] = {
            s: str(v).strip() for s, v in rows.itertuples(index=False) if str(v or "").strip()
        }
    return found


def _codes(
    review: Review, studies: pd.Series, outcome: str, fields: dict[str, dict[str, str]]
) -> pd.DataFrame:
    """Facet codes, the outcome-level fields (a facet of the same name takes the column)
    and quality (the overall risk-of-bias rating of the study, or of the study's outcome
    for a tool assessed per outcome) of each row's study."""
    codes = review.classification_table()
    quality = review.study_quality(outcome)
    own = {f: studies.map(v) for f, v in fields.items() if f not in codes.columns}
    frame = pd.DataFrame(
        {facet: studies.map(codes[facet]) for facet in codes.columns}
        | own
        | {"quality": studies.map(quality)},
        index=studies.index,
    ).astype(object)
    return frame.where(frame.notna(), math.nan)  # None (unsettled) shown as NaN too


def extraction_table(
    review: Review,
    outcome: str,
    measure: str = "SMD",
    multi_arm: str | None = None,
    effects: str | None = None,
    smd_convention: str | None = None,
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
    effects : {"arms", "reported"}, optional
        "arms": effects computed from the arms' values, a study's precomputed effects used
        only when it has no usable arm values; "reported": a study's precomputed effects
        (of this measure) used when it has them, its arms otherwise. Default
        ``[analysis] effects`` of the protocol, else "arms".
    smd_convention : {"metafor", "revman5", "cma"}, optional
        Small-sample correction and variance of SMDs computed from arm values (see
        :func:`metasift.effect_sizes`); default ``[analysis] smd_convention`` of the
        protocol, else "metafor".

    Returns
    -------
    ExtractionTable
        ``data`` has the columns study, comparison, one per classification facet,
        instrument, construct, quality, source, yi, vi, n1i, n2i and the raw columns, all
        present (NaN when unknown). A facet named ``instrument`` or ``construct`` keeps
        its column and the outcome-level field of that name is not added.

    Notes
    -----
    Each arm's value becomes a mean and SD by :func:`arm_mean_sd`; a study whose scale runs
    the other way from the protocol's direction has its means negated. Multi-arm studies
    go through :func:`metasift.stats.arms_to_comparisons` (Cochrane Handbook 6.5.2.10 and
    23.3.4) and effects through :func:`metasift.effect_sizes`. A precomputed effect
    reported with its standard error has ``vi = sei**2``; its ``comparison`` is its label,
    or "as reported".

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from metasift.review import Review
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> review = Review.create(folder)
    >>> text = (folder / "review.toml").read_text()
    >>> text = text.replace("[characteristics]", '[characteristics]\\ncoders = ["ann"]')
    >>> text = text.replace("\\n[outcomes]\\n", '\\n[outcomes.recovery]\\ndirection = "higher"\\n')
    >>> _ = (folder / "review.toml").write_text(text)
    >>> review.close()
    >>> review = Review.open(folder)
    >>> _ = review.add_study("Lee 2019")
    >>> for arm, role, mean, se in (("peer", "intervention", 22.0, 0.8), ("tau", "control",
    ...                                                                  20.0, 1.0)):
    ...     _ = review.extract_arm("ann", "Lee 2019", arm, role=role, n_randomised=40)
    ...     _ = review.extract_value("ann", "Lee 2019", "recovery", arm, n=36, mean=mean, se=se,
    ...                              construct="Personal recovery")
    >>> table = extraction_table(review, "recovery")
    >>> table.data[["study", "construct", "n1i", "sd1i", "yi"]].round(4)
          study          construct   n1i  sd1i      yi
    0  Lee 2019  Personal recovery  36.0   4.8  0.3641
    >>> review.close()
    """
    spec = review.protocol.outcomes.get(outcome)
    if spec is None:
        raise InputError(f"outcome {outcome!r} is not in [outcomes] of review.toml")
    how = _choice(multi_arm, review.protocol, "multi_arm", MULTI_ARM, outcome)
    use = _choice(effects, review.protocol, "effects", EFFECTS, outcome)
    convention = _choice(
        smd_convention, review.protocol, "smd_convention", tuple(CONVENTIONS), outcome
    )
    measure, binary = measure.upper(), measure.upper() in _BINARY
    finals = review.extraction_values()
    keep, checks, audit = _arm_rows(finals, outcome, spec, measure)
    reported, unit_checks = _precomputed(finals, outcome, spec, measure)
    usable = reported[reported["measure"] == measure]
    if use == "reported":
        keep = keep[~keep["study"].isin(set(usable["study"]))] if len(keep) else keep
    table, multi_audit = _comparisons(keep, how, measure, binary, convention)
    extra = usable[~usable["study"].isin(set(table["study"]))]
    checks = pd.concat(
        [checks, unit_checks, _measure_checks(reported, measure, set(table["study"]))]
    )
    table = pd.concat([table, extra.drop(columns="measure")], ignore_index=True)
    data = _layout(review, table, binary, outcome, _outcome_fields(finals, outcome))
    audit = pd.concat([audit, multi_audit, _source_audit(extra, use)], ignore_index=True)
    result = ExtractionTable(outcome, measure, data, checks, audit, how, use)
    with review.store.read() as conn:
        stored = multi_arm_audit.stored_trails(conn, outcome)
    stale = multi_arm_audit.stale_checks(multi_arm_audit.current_trails(result), stored)
    checks = pd.concat([checks, pd.DataFrame(stale, columns=checks.columns)], ignore_index=True)
    return dataclasses.replace(result, checks=checks)


def _arm_rows(
    finals: pd.DataFrame, outcome: str, spec: OutcomeSpec, measure: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Arms converted to the outcome's unit and to mean and SD (or events), the checks and
    the conversion audit; the arms of studies a check excludes are left out."""
    binary = measure in _BINARY
    meta = finals[(finals["table"] == "outcome") & (finals["outcome"] == outcome)]
    fields = {
        f: meta.loc[meta["field"] == f, ["study", "value"]]
        for f in ("direction", "unit", "instrument")
    }
    direction = {s: v for s, v in fields["direction"].itertuples(index=False) if v}
    legacy_units = {s: v for s, v in fields["unit"].itertuples(index=False) if v}
    arms = finals[finals["table"] == "arm"]
    found = outcome_values(finals[finals["table"] == "value"], arms, outcome)
    units_audit, problems = (
        ([], []) if binary else convert_units(found, spec, legacy_units, measure)
    )
    rows, audit, more = convert_arms(found, direction, spec.direction)
    problems += more + se_like(
        [r for r in rows if r["method"] and r["n"]],
        {s: v for s, v in fields["instrument"].itertuples(index=False) if v},
    )
    checks = pd.DataFrame(problems, columns=["study", "arm", "check", "detail", "excluded"])
    out = set(checks.loc[checks["excluded"], "study"])
    kept = [r for r in rows if r["study"] not in out and (not binary or r["events"] is not None)]
    columns = ["study", "arm", "role", "n", "mean", "sd", "events", "method"]
    return pd.DataFrame(kept, columns=columns), checks, pd.DataFrame([*units_audit, *audit])


def _comparisons(
    arms: pd.DataFrame, how: str, measure: str, binary: bool, convention: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if arms.empty:
        return pd.DataFrame(columns=["study", "comparison", "source", "yi", "vi"]), pd.DataFrame()
    columns = ["study", "arm", "role", "n", "events" if binary else "mean"]
    frame = arms[columns + ([] if binary else ["sd"])].astype({"n": float})
    multi = arms_to_comparisons(frame, how=how, outcome="binary" if binary else "continuous")
    comp = multi.comparisons
    names = ("ai", "n1i", "ci", "n2i") if binary else ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
    smd = {"convention": convention} if measure == "SMD" else {}
    es = effect_sizes(measure, data=comp, **{k: k for k in names}, **smd)
    return comp.assign(source="arms", yi=es.yi, vi=es.vi), multi.audit


_EFFECT_COLUMNS = ["study", "comparison", "source", "measure", "yi", "vi", "n1i", "n2i"]
_CHECK_COLUMNS = ["study", "arm", "check", "detail", "excluded"]


def _precomputed(
    finals: pd.DataFrame, outcome: str, spec: OutcomeSpec, wanted: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every complete precomputed effect of the outcome, one row per study and label (a
    mean difference converted to the outcome's unit), and the effects of the ``wanted``
    measure whose unit cannot be converted (left out)."""
    mine = finals[(finals["table"] == "effect") & (finals["outcome"] == outcome)]
    rows, problems = [], []
    for (study, label), block in mine.groupby(["study", "comparison"], sort=False):
        fields = dict(zip(block["field"], block["value"], strict=True))
        vi, sei = fields.get("vi"), fields.get("sei")
        if fields.get("yi") is None or (vi is None and sei is None):
            continue
        measure = str(fields.get("measure") or "SMD").upper()
        factor = effect_factor(str(fields.get("unit") or ""), spec, measure)
        if factor is None and measure == wanted:
            detail = f"{label or 'as reported'}: unit {fields['unit']!r} cannot be converted"
            problems.append((study, "", "unit not convertible", f"{detail} to {spec.unit!r}", True))
            continue
        factor = 1.0 if factor is None else factor  # another measure: listed, never pooled
        variance = float(vi) if vi is not None else float(sei) ** 2
        rows.append(
            {"study": study, "comparison": label or "as reported", "source": "precomputed"}
            | {"measure": measure, "yi": float(fields["yi"]) * factor, "vi": variance * factor**2}
            | {"n1i": _size(fields.get("n1i")), "n2i": _size(fields.get("n2i"))}
        )
    return pd.DataFrame(rows, columns=_EFFECT_COLUMNS), pd.DataFrame(
        problems, columns=_CHECK_COLUMNS
    )


def _size(value: Any) -> float:
    return math.nan if value is None else float(value)


def _measure_checks(reported: pd.DataFrame, measure: str, in_table: set[str]) -> pd.DataFrame:
    """Precomputed effects left out because their measure is not the table's."""
    other = reported[(reported["measure"] != measure) & ~reported["study"].isin(in_table)]
    detail = "{}: reported as {}, not " + measure
    rows = [
        (r.study, "", "other measure", detail.format(r.comparison, r.measure), True)
        for r in other.itertuples(index=False)
    ]
    return pd.DataFrame(rows, columns=["study", "arm", "check", "detail", "excluded"])


def _source_audit(extra: pd.DataFrame, use: str) -> pd.DataFrame:
    why = "reported effects preferred" if use == "reported" else "no usable arm values"
    rows = [
        {"study": r.study, "arm": "", "action": f"precomputed effect used ({why})"}
        | {"comparison": r.comparison}
        for r in extra.itertuples(index=False)
    ]
    return pd.DataFrame(rows)


def _layout(
    review: Review,
    table: pd.DataFrame,
    binary: bool,
    outcome: str,
    fields: dict[str, dict[str, str]],
) -> pd.DataFrame:
    """The columns in their order: identifiers, facets, instrument and construct,
    quality, source, effect, raw."""
    table = table.reset_index(drop=True)
    for column in ["n1i", "n2i", *_RAW[binary]]:
        if column not in table.columns:
            table[column] = math.nan
    table = table.astype({"yi": float, "vi": float, "n1i": float, "n2i": float})
    codes = _codes(review, table["study"], outcome, fields)
    first = table[["study", "comparison"]]
    rest = table[["source", "yi", "vi", "n1i", "n2i", *_RAW[binary]]]
    return pd.concat([first, codes, rest], axis=1)
