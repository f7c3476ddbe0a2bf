"""The analysis plan of a review: the ``[analysis]`` table of ``review.toml``.

:class:`AnalysisPlan` holds the review-wide settings and the overrides per outcome
(``[analysis.outcomes.NAME]``) and per construct group (``[analysis.groups.GROUP]``);
:meth:`AnalysisPlan.settings` resolves them for one outcome. :func:`analysis_errors` checks
the plan against the rest of the protocol (facets, characteristics fields, outcomes), and
:func:`check_analysis_plan` raises them as a :class:`~metasift.review.ProtocolError` with
the line of each key.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from metasift.stats._tau2 import METHODS
from metasift.stats.batch import TESTS

if TYPE_CHECKING:
    from metasift.review.protocol import Protocol

__all__ = [
    "BIAS_TESTS",
    "MEASURES",
    "OUTCOME_SUBGROUPS",
    "AnalysisOptions",
    "AnalysisPlan",
    "PublicationBias",
    "Sensitivity",
    "SensitivitySet",
    "analysis_errors",
    "check_analysis_plan",
    "value_key",
]

#: Effect measures the analysable table can hold: from means and SDs (SMD, MD, ROM), from
#: events (OR, RR, RD), or precomputed effects reported on that scale.
MEASURES: tuple[str, ...] = ("SMD", "MD", "ROM", "OR", "RR", "RD")
#: Publication-bias checks, by the names of their functions in :mod:`metasift.stats`.
BIAS_TESTS: tuple[str, ...] = ("egger", "begg", "trim_and_fill")
#: Labels of a subgroup analysis, as every table shows them.
SUBGROUP_KINDS: tuple[str, ...] = ("pre-specified", "post hoc")
#: Outcome-level extraction fields that ``subgroups`` may name besides the facets: coded
#: per study and outcome, their categories are the values found in the outcome's table.
#: A facet of ``[classification.facets]`` with one of these names takes precedence.
OUTCOME_SUBGROUPS: tuple[str, ...] = ("instrument", "construct")

Loc = tuple[str | int, ...]
Value = str | bool | int | float


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SensitivitySet(_Model):
    """``[analysis.sensitivity.NAME]``: the main analysis without some studies.

    ``exclude`` maps ``"quality"``, a classification facet or a characteristics field to
    the values whose studies are left out; ``""`` matches a study with no value.
    """

    exclude: dict[str, list[Value]] = Field(min_length=1)
    description: str = ""

    @field_validator("exclude")
    @classmethod
    def _values(cls, value: dict[str, list[Value]]) -> dict[str, list[Value]]:
        for key, values in value.items():
            if not values:
                raise ValueError(f"exclude.{key} is empty: list the values to leave out")
        return value


class Sensitivity(_Model):
    """``[analysis.sensitivity]``: ``leave_one_out`` and any number of named sets."""

    model_config = ConfigDict(extra="allow", frozen=True, str_strip_whitespace=True)
    __pydantic_extra__: dict[str, SensitivitySet] = Field(init=False)

    leave_one_out: bool = True

    @property
    def sets(self) -> dict[str, SensitivitySet]:
        """The named sensitivity sets, in the order of review.toml."""
        return dict(self.model_extra or {})


class PublicationBias(_Model):
    """``[analysis.publication_bias]``: which checks, from how many comparisons on."""

    min_studies: int = Field(default=10, ge=3)
    tests: list[Literal["egger", "begg", "trim_and_fill"]] = ["egger", "begg", "trim_and_fill"]


class AnalysisOptions(_Model):
    """The settings of one outcome's analysis; every key of ``[analysis]`` but the
    override tables. In an override table only the keys given replace the plan's."""

    measure: str = "SMD"
    smd_convention: Literal["metafor", "revman5", "cma"] = "metafor"
    effects: Literal["arms", "reported"] = "arms"
    method: str = "REML"
    test: str = "z"
    prediction_interval: bool = True
    level: float = Field(default=0.95, gt=0.5, lt=1.0)
    i2: Literal["q", "tau2"] = "q"
    min_studies: int = Field(default=2, ge=1)
    multi_arm: Literal["combine", "split"] = "combine"
    comparators: Literal["together", "apart"] = "together"
    comparator_facet: str = "comparator"
    subgroups: dict[str, Literal["pre-specified", "post hoc"]] | None = None
    subgroup_tau2: Literal["separate", "common"] = "separate"
    sensitivity: Sensitivity = Sensitivity()
    publication_bias: PublicationBias = PublicationBias()

    @field_validator("measure")
    @classmethod
    def _measure(cls, value: str) -> str:
        if value.upper() not in MEASURES:
            raise ValueError(f"measure {value!r} is not known; allowed: {', '.join(MEASURES)}")
        return value.upper()

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if value not in METHODS:
            raise ValueError(f"method {value!r} is not a tau^2 estimator; allowed: {METHODS}")
        return value

    @field_validator("test")
    @classmethod
    def _test(cls, value: str) -> str:
        if value not in TESTS:
            raise ValueError(f"test {value!r} is not known; allowed: {TESTS}")
        return value

    @field_validator("subgroups", mode="before")
    @classmethod
    def _subgroups(cls, value: Any) -> Any:
        # A plain list names pre-specified facets; a table says which are post hoc.
        if isinstance(value, list):
            return {str(name): "pre-specified" for name in value}
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """A setting by name, as from the plain table ``[analysis]`` once was."""
        return getattr(self, key, default)


_OVERRIDABLE = tuple(AnalysisOptions.model_fields)


class AnalysisPlan(AnalysisOptions):
    """``[analysis]`` of review.toml: how the outcomes are meta-analysed.

    Attributes
    ----------
    measure : str
        Effect measure: SMD (default), MD, ROM, OR, RR or RD.
    smd_convention : {"metafor", "revman5", "cma"}
        SMD bias correction and variance (:func:`metasift.effect_sizes` ``convention``).
    effects : {"arms", "reported"}
        Effects from arm values (precomputed ones only for studies without them), or the
        study's own precomputed effects where it has them.
    method, test, level, prediction_interval :
        tau^2 estimator, test (z, knha, adhoc), confidence level, whether to report the
        prediction interval.
    i2 : {"q", "tau2"}
        Which I^2 the tables report: from Q, ``(Q - df) / Q`` (RevMan, R meta), or from
        tau^2 (metafor).
    min_studies : int
        Fewest comparisons pooled; a cell with fewer is "not applicable".
    multi_arm : {"combine", "split"}
        Multi-arm rule (Cochrane Handbook 23.3.4).
    comparators, comparator_facet :
        "together", or "apart": every analysis is run within each category of the facet
        ``comparator_facet``.
    subgroups : dict or None
        Facet -> "pre-specified" or "post hoc"; None (not given) analyses every facet as
        pre-specified, an empty list none. Besides facets, the outcome-level extraction
        fields ``"instrument"`` and ``"construct"`` (:data:`OUTCOME_SUBGROUPS`) may be
        named; a facet of the same name wins.
    subgroup_tau2 : {"separate", "common"}
        tau^2 per subgroup, or one shared.
    sensitivity : Sensitivity
        Named sets of excluded studies and leave-one-out.
    publication_bias : PublicationBias
        Checks run when an analysis has at least ``min_studies`` comparisons.
    outcomes, groups : dict
        Overrides per outcome and per construct group (``[outcomes.NAME] group``).

    Examples
    --------
    >>> plan = AnalysisPlan.model_validate(
    ...     {"test": "knha", "subgroups": ["setting"], "outcomes": {"mood": {"measure": "md"}}}
    ... )
    >>> plan.settings("mood").measure, plan.settings("mood").test, plan.multi_arm
    ('MD', 'knha', 'combine')
    >>> plan.settings("other").subgroups
    {'setting': 'pre-specified'}
    """

    outcomes: dict[str, AnalysisOptions] = {}
    groups: dict[str, AnalysisOptions] = {}

    def settings(self, outcome: str, group: str = "") -> AnalysisOptions:
        """The settings of ``outcome``: the plan, then its group's keys, then its own."""
        values = {name: getattr(self, name) for name in _OVERRIDABLE}
        for override in (self.groups.get(group), self.outcomes.get(outcome)):
            if override is not None:
                values.update({k: getattr(override, k) for k in override.model_fields_set})
        return AnalysisOptions.model_validate(
            {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in values.items()}
        )

    def all_options(self) -> list[tuple[Loc, AnalysisOptions]]:
        """The plan and every override table, with their key paths."""
        found: list[tuple[Loc, AnalysisOptions]] = [(("analysis",), self)]
        for kind in ("outcomes", "groups"):
            for name, options in getattr(self, kind).items():
                found.append((("analysis", kind, name), options))
        return found


def value_key(value: Any) -> str:
    """The form in which a value of review.toml and a value of the store are compared:
    booleans and numbers by value, text without case or surrounding spaces.

    Examples
    --------
    >>> value_key(12), value_key(12.0), value_key(True), value_key(" Poor ")
    ('12.0', '12.0', 'true', 'poor')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value))
    return str(value).strip().casefold()


def _exclude_errors(
    protocol: Protocol, loc: Loc, options: AnalysisOptions
) -> list[tuple[Loc, str]]:
    facets, fields = protocol.classification.facets, protocol.characteristics.fields
    errors: list[tuple[Loc, str]] = []
    for name, spec in options.sensitivity.sets.items():
        for key, values in spec.exclude.items():
            where = (*loc, "sensitivity", name, "exclude", key)
            if key == "quality":
                continue
            if key in facets:
                allowed = [*facets[key].categories, ""]
            elif key in fields:
                allowed = [*fields[key].choices, ""] if fields[key].type == "choice" else []
            else:
                known_facets, known_fields = ", ".join(facets), ", ".join(fields)
                message = (
                    f"{key!r} is not 'quality', a [classification.facets] facet "
                    f"({known_facets or 'none'}) or a [characteristics.fields] field "
                    f"({known_fields or 'none'})"
                )
                errors.append((where, message))
                continue
            known = {value_key(a) for a in allowed}
            for value in values:
                if allowed and value_key(value) not in known:
                    errors.append((where, f"{value!r} is not one of {allowed}"))
    return errors


def _facet_errors(protocol: Protocol, loc: Loc, options: AnalysisOptions) -> list[tuple[Loc, str]]:
    facets = list(protocol.classification.facets)
    errors: list[tuple[Loc, str]] = []
    for facet in options.subgroups or {}:
        if facet not in facets and facet not in OUTCOME_SUBGROUPS:
            known = ", ".join(facets) or "none declared"
            fields = " or ".join(repr(f) for f in OUTCOME_SUBGROUPS)
            message = (
                f"{facet!r} is not a facet of [classification.facets] ({known}) or an "
                f"outcome field ({fields})"
            )
            errors.append(((*loc, "subgroups"), message))
    if options.comparators == "apart" and options.comparator_facet not in facets:
        message = (
            f"comparators = 'apart' needs the facet {options.comparator_facet!r} in "
            "[classification.facets]; declare it or set comparator_facet to the facet "
            "coding the comparator"
        )
        errors.append(((*loc, "comparator_facet"), message))
    return errors


def analysis_errors(protocol: Protocol) -> list[tuple[Loc, str]]:
    """Problems of ``[analysis]`` against the rest of the protocol, as (key path, message).

    Checks that subgroups name facets (or the outcome fields of
    :data:`OUTCOME_SUBGROUPS`), that the comparator facet and sensitivity exclusions name
    facets, categories and characteristics fields that exist, and that override tables
    name outcomes of ``[outcomes]`` and their construct groups.
    """
    plan: AnalysisPlan = protocol.analysis
    errors: list[tuple[Loc, str]] = []
    for loc, options in plan.all_options():
        errors += _facet_errors(protocol, loc, options)
        errors += _exclude_errors(protocol, loc, options)
    for name in plan.outcomes:
        if name not in protocol.outcomes:
            known = ", ".join(protocol.outcomes) or "none"
            message = f"{name!r} is not an outcome of [outcomes] ({known})"
            errors.append((("analysis", "outcomes", name), message))
    groups = {spec.group for spec in protocol.outcomes.values() if spec.group}
    for name in plan.groups:
        if name not in groups:
            known = ", ".join(sorted(groups)) or "none"
            message = f"{name!r} is not the group of any outcome (groups: {known})"
            errors.append((("analysis", "groups", name), message))
    return errors


def check_analysis_plan(protocol: Protocol, toml: str | Path | None = None) -> None:
    """Raise :class:`~metasift.review.ProtocolError` listing :func:`analysis_errors`, with
    the line of each key when ``toml`` (the review.toml file) is given.

    :func:`~metasift.review.protocol.parse_protocol` runs the same checks when it reads a
    review.toml; this function checks a protocol built another way.

    Examples
    --------
    >>> import tomllib
    >>> from metasift.review.protocol import Protocol
    >>> text = '''[review]
    ... title = "x"
    ... [team]
    ... reviewers = ["ann", "dana"]
    ... [screening.title_abstract]
    ... arbiter = "dana"
    ... [analysis]
    ... subgroups = ["setting"]
    ... '''
    >>> check_analysis_plan(Protocol.model_validate(tomllib.loads(text)))
    Traceback (most recent call last):
    ...
    metasift.review.protocol.ProtocolError: 1 problem(s) in the protocol:
      review.toml, analysis.subgroups: 'setting' is not a facet of [classification.facets]
      (none declared) or an outcome field ('instrument' or 'construct')
    """
    from metasift.review._toml_lines import key_lines, line_of
    from metasift.review.protocol import ProtocolError, _dotted

    errors = analysis_errors(protocol)
    if not errors:
        return
    source, lines = "review.toml", {}
    if toml is not None and Path(toml).is_file():
        source, lines = str(toml), key_lines(Path(toml).read_text(encoding="utf-8"))
    raise ProtocolError(source, [(line_of(lines, loc), _dotted(loc), msg) for loc, msg in errors])
