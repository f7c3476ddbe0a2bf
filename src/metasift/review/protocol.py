"""The protocol of a review, ``review.toml``, validated by a pydantic schema.

Every error names the file, the line and the dotted key, the value found and what is
allowed, and all errors of a file are reported at once (:class:`ProtocolError`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from metasift._vocabulary import DECISIONS, STAGES
from metasift.errors import InputError
from metasift.review._toml_lines import key_lines, line_of
from metasift.review.analysis_plan import AnalysisPlan, analysis_errors

__all__ = [
    "DECISIONS",
    "SOURCE_KINDS",
    "STAGES",
    "Protocol",
    "ProtocolError",
    "load_protocol",
    "parse_protocol",
]

#: Kinds of source, as the PRISMA 2020 flow diagram counts them.
SOURCE_KINDS: tuple[str, ...] = ("database", "register", "website", "organisation", "citation")
#: Kinds whose records go through deduplication and title/abstract screening (the left
#: column of the PRISMA 2020 diagram); the others are assessed at full text directly.
DBR_KINDS: tuple[str, ...] = ("database", "register")

Loc = tuple[str | int, ...]


class ProtocolError(InputError):
    """``review.toml`` is not a valid protocol; ``errors`` lists (line, key, message).

    Attributes
    ----------
    errors : list of tuple
        One ``(line, key, message)`` per problem; ``line`` is 0 when the key is absent.
    """

    def __init__(self, source: str, errors: list[tuple[int, str, str]]) -> None:
        self.errors = sorted(errors, key=lambda e: (e[0] == 0, e[0]))
        lines = [
            f"{source} line {line}, {key}: {message}" if line else f"{source}, {key}: {message}"
            for line, key, message in self.errors
        ]
        super().__init__(f"{len(errors)} problem(s) in the protocol:\n  " + "\n  ".join(lines))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _clean_names(values: list[str], what: str) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if not value:
            raise ValueError(f"{what} must not be empty")
        if re.search(r"[,;]", value):
            raise ValueError(
                f"{what} {value!r} contains ',' or ';', which the PRISMA2020 CSV uses as "
                "separators; rename it"
            )
        if value.casefold() in seen:
            raise ValueError(f"{what} {value!r} appears twice")
        seen.add(value.casefold())
    return values


class ReviewInfo(_Model):
    """``[review]``: what the review is."""

    title: str = Field(min_length=1)
    question: str = ""
    registration: str = ""


class Team(_Model):
    """``[team]``: the people who screen and arbitrate, by name."""

    reviewers: list[str] = Field(min_length=1)

    @field_validator("reviewers")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        return _clean_names([v.strip() for v in value], "reviewer name")


class Years(_Model):
    """Publication years allowed, both ends included; ``None`` leaves an end open."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    start: int | None = Field(None, alias="from", ge=1500, le=2100)
    end: int | None = Field(None, alias="to", ge=1500, le=2100)


class Keywords(_Model):
    """Words highlighted while screening; ``*`` ends a word prefix (``randomi*``)."""

    include: list[str] = []
    exclude: list[str] = []


class Eligibility(_Model):
    """``[eligibility]``: PICO text, languages and years (the pre-screening filters)."""

    population: str = ""
    intervention: str = ""
    comparator: str = ""
    outcomes: str = ""
    study_designs: str = ""
    languages: list[str] = []
    years: Years = Years()
    keywords: Keywords = Keywords()


class Source(_Model):
    """``[[databases]]``: one database, register or other method searched."""

    name: str = Field(min_length=1)
    kind: Literal["database", "register", "website", "organisation", "citation"] = "database"
    date: dt.date | None = None
    query: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _clean_names([value], "database name")[0]


class Stage(_Model):
    """``[screening.<stage>]``: who screens, how many per record, who arbitrates, reasons."""

    arbiter: str = Field(min_length=1)
    screeners: list[str] | None = None
    assignment: Literal["all", "balanced"] = "all"
    reviewers_per_record: int | None = Field(None, ge=1)
    reasons: list[str] = []

    @field_validator("reasons")
    @classmethod
    def _reasons(cls, value: list[str]) -> list[str]:
        return _clean_names([v.strip() for v in value], "exclusion reason")


class Screening(_Model):
    """``[screening]``: the meaning of "maybe" and the two stages."""

    maybe: Literal["include", "conflict"] = "include"
    title_abstract: Stage
    full_text: Stage | None = None


class StoreSettings(_Model):
    """``[store]``: empty ``database_url`` means SQLite ``metasift.db`` in the folder."""

    database_url: str = ""


class Facet(_Model):
    """``[classification.facets.NAME]``: the categories a study can be coded in."""

    categories: list[str] = Field(min_length=2)
    description: str = ""

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        return _clean_names([v.strip() for v in value], "category")


class Roles(_Model):
    """Who codes independently (default: the team but the arbiter) and who settles."""

    coders: list[str] | None = None
    arbiter: str | None = None


class Classification(Roles):
    """``[classification]``: facets the studies are coded on, by independent coders."""

    facets: dict[str, Facet] = {}


class CustomTool(_Model):
    """``[risk_of_bias.tools.NAME]``: a team's own tool (or robvis' generic template)."""

    domains: list[str] = Field(min_length=1)
    judgements: list[str] = ["low", "unclear", "high"]
    overall: Literal["worst", "ahrq", "none"] = "worst"
    reference: str = ""
    per_outcome: bool = False


class RiskOfBias(Roles):
    """``[risk_of_bias]``: the tool (``modified_cochrane``, ``rob2`` or a custom one)."""

    tool: str = "modified_cochrane"
    tools: dict[str, CustomTool] = {}


class FormField(_Model):
    """``[characteristics.fields.NAME]``: one field of the study characteristics form."""

    type: Literal["text", "number", "integer", "choice", "boolean"] = "text"
    choices: list[str] = []
    description: str = ""


class Characteristics(Roles):
    """``[characteristics]``: the extraction form and who extracts (double extraction)."""

    fields: dict[str, FormField] = {}


class OutcomeSpec(_Model):
    """``[outcomes.NAME]``: an outcome, its construct ``group``, the better direction, and
    the ``unit`` values are pooled in with ``factors`` converting other units to it."""

    group: str = ""
    direction: Literal["higher", "lower"] = "higher"
    instruments: list[str] = []
    timepoint: str = ""
    unit: str = ""
    factors: dict[str, float] = {}

    @field_validator("factors")
    @classmethod
    def _factors(cls, value: dict[str, float]) -> dict[str, float]:
        for unit, factor in value.items():
            if not unit.strip() or not factor > 0 or factor == float("inf"):
                raise ValueError(
                    f"factor {factor!r} for unit {unit!r}: give a unit name and a finite "
                    "factor > 0 (value in that unit x factor = value in the outcome's unit)"
                )
        return value


class Protocol(_Model):
    """A validated ``review.toml``.

    Sections filled by later steps of a review (``classification``, ``risk_of_bias``,
    ``characteristics``, ``outcomes``, ``analysis``) may be empty; names that one section
    uses from another (a facet in the analysis plan, a coder in the team) are checked.

    Examples
    --------
    >>> p = parse_protocol('''
    ... [review]
    ... title = "Peer support"
    ... [team]
    ... reviewers = ["ann", "ben", "dana"]
    ... [screening.title_abstract]
    ... arbiter = "dana"
    ... ''')
    >>> p.screeners("title_abstract"), p.reviewers_per_record("title_abstract")
    (['ann', 'ben'], 2)
    """

    review: ReviewInfo
    team: Team
    eligibility: Eligibility = Eligibility()
    databases: list[Source] = []
    screening: Screening
    store: StoreSettings = StoreSettings()
    classification: Classification = Classification()
    risk_of_bias: RiskOfBias = RiskOfBias()
    characteristics: Characteristics = Characteristics()
    outcomes: dict[str, OutcomeSpec] = {}
    analysis: AnalysisPlan = AnalysisPlan()

    def arbiter(self, section: str) -> str:
        """Arbiter of ``classification``, ``risk_of_bias`` or ``characteristics``: as set,
        else the arbiter of full-text screening (or of title/abstract screening)."""
        roles: Roles = getattr(self, section)
        if roles.arbiter:
            return roles.arbiter
        stage = self.screening.full_text or self.screening.title_abstract
        return stage.arbiter

    def coders(self, section: str) -> list[str]:
        """Independent coders of a section: as listed, or the team but its arbiter."""
        roles: Roles = getattr(self, section)
        if roles.coders is not None:
            return list(roles.coders)
        return [r for r in self.team.reviewers if r != self.arbiter(section)]

    def stages(self) -> tuple[str, ...]:
        """Stages the protocol defines, in order."""
        return tuple(s for s in STAGES if self.stage(s, required=False) is not None)

    def stage(self, name: str, *, required: bool = True) -> Stage | None:
        """Settings of stage ``name``; an :class:`InputError` for an unknown stage."""
        if name not in STAGES:
            raise InputError(f"stage {name!r} is not a screening stage; stages are {STAGES}")
        found: Stage | None = getattr(self.screening, name)
        if found is None and required:
            raise InputError(
                f"stage {name!r} is not in review.toml: add a [screening.{name}] table"
            )
        return found

    def screeners(self, name: str) -> list[str]:
        """Screeners of a stage: as listed, or the whole team but the arbiter."""
        stage = self.stage(name)
        assert stage is not None  # required=True above
        if stage.screeners is not None:
            return list(stage.screeners)
        return [r for r in self.team.reviewers if r != stage.arbiter]

    def reviewers_per_record(self, name: str) -> int:
        """Independent reviewers per record at a stage."""
        stage = self.stage(name)
        assert stage is not None
        return stage.reviewers_per_record or len(self.screeners(name))

    def source(self, name: str) -> Source:
        """The ``[[databases]]`` entry called ``name`` (case-insensitive)."""
        for source in self.databases:
            if source.name.casefold() == name.casefold():
                return source
        known = [s.name for s in self.databases] or "none"
        raise InputError(
            f"database {name!r} is not in review.toml; declared: {known}. Add a "
            "[[databases]] table with its name, kind, date and query"
        )

    def database_url(self, folder: Path) -> str:
        """The store's URL: ``database_url`` with ``${VAR}`` expanded, or the SQLite file."""
        url = self.store.database_url
        if not url:
            return f"sqlite:///{(folder / 'metasift.db').resolve()}"

        def expand(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise InputError(
                    f"store.database_url refers to ${{{name}}}, which is not set in the environment"
                )
            return os.environ[name]

        return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", expand, url)


def _stage_errors(protocol: Protocol, name: str) -> list[tuple[Loc, str]]:
    stage = protocol.stage(name, required=False)
    if stage is None:
        return []
    team = protocol.team.reviewers
    loc: Loc = ("screening", name)
    errors: list[tuple[Loc, str]] = []
    if stage.arbiter not in team:
        errors.append(((*loc, "arbiter"), f"{stage.arbiter!r} is not in team.reviewers {team}"))
    for who in stage.screeners or []:
        if who not in team:
            errors.append(((*loc, "screeners"), f"{who!r} is not in team.reviewers {team}"))
    screeners = protocol.screeners(name)
    n = stage.reviewers_per_record
    if not screeners:
        errors.append((loc, "no screeners: list screeners or add reviewers to the team"))
    elif stage.assignment == "all" and n is not None and n != len(screeners):
        errors.append(
            (
                (*loc, "reviewers_per_record"),
                f"{n}, but assignment = 'all' gives every record to all {len(screeners)} "
                "screeners; set it to that number or use assignment = 'balanced'",
            )
        )
    elif n is not None and n > len(screeners):
        errors.append(
            ((*loc, "reviewers_per_record"), f"{n} is more than the {len(screeners)} screeners")
        )
    if name == "full_text" and not stage.reasons:
        errors.append(((*loc, "reasons"), "full-text exclusions need reasons: list at least one"))
    return errors


def _cross_errors(protocol: Protocol) -> list[tuple[Loc, str]]:
    errors: list[tuple[Loc, str]] = []
    for name in STAGES:
        errors += _stage_errors(protocol, name)
    years = protocol.eligibility.years
    if years.start is not None and years.end is not None and years.start > years.end:
        errors.append((("eligibility", "years"), f"from = {years.start} is after to = {years.end}"))
    seen: set[str] = set()
    for i, source in enumerate(protocol.databases):
        if source.name.casefold() in seen:
            errors.append((("databases", i, "name"), f"{source.name!r} appears twice"))
        seen.add(source.name.casefold())
    return errors


def _role_errors(protocol: Protocol) -> list[tuple[Loc, str]]:
    team = protocol.team.reviewers
    errors: list[tuple[Loc, str]] = []
    for section in ("classification", "risk_of_bias", "characteristics"):
        roles: Roles = getattr(protocol, section)
        for who in [*(roles.coders or []), *([roles.arbiter] if roles.arbiter else [])]:
            if who not in team:
                errors.append(((section,), f"{who!r} is not in team.reviewers {team}"))
        if not protocol.coders(section):
            errors.append(((section, "coders"), "no coders: list coders or add reviewers"))
    rob = protocol.risk_of_bias
    if rob.tool not in ("modified_cochrane", "rob2", *rob.tools):
        errors.append(
            (
                ("risk_of_bias", "tool"),
                f"{rob.tool!r} is not a tool; use modified_cochrane, rob2 or define it "
                f"under [risk_of_bias.tools.{rob.tool}]",
            )
        )
    for name, outcome in protocol.outcomes.items():
        if re.search(r"[|:]", name):
            errors.append((("outcomes", name), "an outcome name cannot contain '|' or ':'"))
        if outcome.factors and not outcome.unit:
            errors.append((("outcomes", name, "factors"), "factors convert to `unit`: give it"))
    for name, spec in protocol.characteristics.fields.items():
        if (spec.type == "choice") != bool(spec.choices):
            errors.append(
                (("characteristics", "fields", name), "type = 'choice' goes with choices")
            )
    return errors


def _dotted(loc: Loc) -> str:
    """``("databases", 1, "kind")`` -> ``"databases[1].kind"``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _describe(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] not in ("missing", "extra_forbidden") and "input" in error:
        message += f" (found {error['input']!r})"
    return message


def parse_protocol(text: str, source: str = "review.toml") -> Protocol:
    """Validate the text of a ``review.toml``; :class:`ProtocolError` lists every problem.

    Examples
    --------
    >>> parse_protocol('[review]\\ntitle = "x"\\n[team]\\nreviewers = "ann"\\n')
    Traceback (most recent call last):
    ...
    metasift.review.protocol.ProtocolError: 2 problem(s) in the protocol:
      review.toml line 4, team.reviewers: Input should be a valid list (found 'ann')
      review.toml, screening: Field required
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"line (\d+)", str(error))
        line = int(found.group(1)) if found else 0
        raise ProtocolError(source, [(line, "TOML syntax", str(error))]) from None
    lines = key_lines(text)
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = tuple(item["loc"])
            problems.append((line_of(lines, loc), _dotted(loc), _describe(item)))
        raise ProtocolError(source, problems) from None
    cross = _cross_errors(protocol) + _role_errors(protocol) + analysis_errors(protocol)
    if cross:
        raise ProtocolError(
            source,
            [(line_of(lines, loc), _dotted(loc), msg) for loc, msg in cross],
        )
    return protocol


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate a ``review.toml`` file (or the one in a review folder).

    Raises
    ------
    InputError
        The file does not exist.
    ProtocolError
        The file is not a valid protocol; the message lists line, key and problem.
    """
    target = Path(path)
    if target.is_dir():
        target = target / "review.toml"
    if not target.is_file():
        raise InputError(
            f"{str(target)!r} does not exist: run `metasift init` to write a protocol template"
        )
    return parse_protocol(target.read_text(encoding="utf-8"), source=str(target))
