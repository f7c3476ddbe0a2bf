"""Risk-of-bias tools as data, and robvis-shaped tables of judgements.

A tool is its domains and its judgement levels (label, colour, symbol). Built-in tools
cover RoB 2, ROBINS-I, the original Cochrane RoB 1, QUADAS-2 and robvis' "Generic"
template; a review with its own tool (for example RoB 1 with extra domains) builds a
:class:`RobTool` or uses ``"Generic"``, whose domains are read from the table's columns.

Tables have the shape robvis reads: the first column names the study, then one column per
domain, then optional ``Overall`` and ``Weight`` columns. :func:`read_rob_table` and
:func:`write_rob_table` read and write such CSV files, so robvis users can switch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metasift.errors import InputError
from metasift.review.appraisal_tools import BUILTIN_TOOLS

__all__ = [
    "ROB_TOOLS",
    "Domain",
    "Judgement",
    "RobTable",
    "RobTool",
    "read_rob_table",
    "rob_table",
    "rob_tool",
    "write_rob_table",
]

# Cochrane colours as robvis uses them (robvis R/helpers.R, get_colour, "cochrane").
_GREEN, _YELLOW, _RED, _DARK_RED = "#02C100", "#E2DF07", "#BF0000", "#820000"
_BLUE, _GREY = "#4EA1F7", "#CCCCCC"

COLOURBLIND = {"low": "#FED98E", "concerns": "#FE9929", "high": "#D95F0E"}
"""robvis' colour-blind palette, by severity class (critical and no information below)."""
_CB_CRITICAL, _CB_NI = "#993404", "#FFFFFF"


@dataclass(frozen=True)
class Judgement:
    """One judgement level of a tool.

    Attributes
    ----------
    label : str
        The value written in tables (robvis spelling), e.g. ``"Some concerns"``.
    colour : str
        Fill colour (any matplotlib colour).
    symbol : str
        Character drawn inside traffic lights (robvis: ``+ - x !  ?``), ``""`` for none.
    aliases : tuple of str
        Other spellings accepted when reading (case and the suffixes " risk" and
        " risk of bias" are ignored anyway).
    assessed : bool
        False for "Not applicable": such cells are left out of summary percentages.
    """

    label: str
    colour: str
    symbol: str
    aliases: tuple[str, ...] = ()
    assessed: bool = True


@dataclass(frozen=True)
class Domain:
    """One domain of a tool: a short code (``"D1"``), its full name and its table column."""

    code: str
    name: str
    column: str = ""

    @property
    def header(self) -> str:
        """The column header written to robvis-shaped tables."""
        return self.column or self.code


@dataclass(frozen=True)
class RobTool:
    """A risk-of-bias tool: its name, domains and judgement levels (best to worst).

    ``domains`` is empty for a generic tool: the domains are then the table's columns.

    Examples
    --------
    >>> tool = rob_tool("ROB2")
    >>> [d.code for d in tool.domains], tool.judgement("some concerns").label
    (['D1', 'D2', 'D3', 'D4', 'D5'], 'Some concerns')
    """

    name: str
    domains: tuple[Domain, ...]
    judgements: tuple[Judgement, ...]
    reference: str = ""
    _lookup: dict[str, Judgement] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lookup: dict[str, Judgement] = {}
        for level in self.judgements:
            for spelling in (level.label, *level.aliases):
                lookup[_norm_judgement(spelling)] = level
        object.__setattr__(self, "_lookup", lookup)

    @property
    def labels(self) -> tuple[str, ...]:
        """Judgement labels in the tool's order."""
        return tuple(level.label for level in self.judgements)

    def judgement(self, value: str) -> Judgement:
        """The level a table value stands for; ``KeyError`` if it is not one of the tool's."""
        return self._lookup[_norm_judgement(value)]

    def with_colours(self, colours: str | Mapping[str, str]) -> RobTool:
        """The same tool with other colours: ``"colourblind"`` or a mapping label -> colour."""
        if isinstance(colours, str):
            if colours.lower() not in ("colourblind", "colorblind", "cochrane"):
                raise InputError(
                    f"colours={colours!r}: use 'cochrane', 'colourblind' or a mapping "
                    f"of judgement label to colour ({', '.join(self.labels)})"
                )
            if colours.lower() == "cochrane":
                return self
            colours = _colourblind(self)
        unknown = sorted(set(colours) - set(self.labels))
        if unknown:
            raise InputError(
                f"colours: {unknown} are not judgements of {self.name}; "
                f"allowed: {', '.join(self.labels)}"
            )
        levels = tuple(
            Judgement(j.label, colours.get(j.label, j.colour), j.symbol, j.aliases, j.assessed)
            for j in self.judgements
        )
        return RobTool(self.name, self.domains, levels, self.reference)


def _colourblind(tool: RobTool) -> dict[str, str]:
    by_colour = {
        _GREEN: COLOURBLIND["low"],
        _YELLOW: COLOURBLIND["concerns"],
        _RED: COLOURBLIND["high"],
        _DARK_RED: _CB_CRITICAL,
        _BLUE: _CB_NI,
    }
    return {j.label: by_colour.get(j.colour, j.colour) for j in tool.judgements}


def _norm_judgement(value: str) -> str:
    text = re.sub(r"\s+", " ", str(value).strip().lower())
    for suffix in (" risk of bias", " risk"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
    return text


def _norm_header(value: object) -> str:
    return re.sub(r"[\s._]+", " ", str(value).strip().lower()).strip()


_NI = Judgement("No information", _BLUE, "?", ("NI", "No info"))
_NA = Judgement("Not applicable", _GREY, "", ("N/A",), assessed=False)


def _domains(*names: str, columns: Sequence[str] = ()) -> tuple[Domain, ...]:
    cols = list(columns) or [""] * len(names)
    return tuple(
        Domain(f"D{i}", name, col) for i, (name, col) in enumerate(zip(names, cols, strict=True), 1)
    )


_ROB2 = RobTool(
    "RoB 2",
    # The domains are those the review layer appraises with (one definition of the tool).
    _domains(*(domain.name for domain in BUILTIN_TOOLS["rob2"].domains)),
    (
        Judgement("Low", _GREEN, "+"),
        Judgement("Some concerns", _YELLOW, "\u2212", ("Some concern", "Unclear")),
        Judgement("High", _RED, "x"),
        _NI,
        _NA,
    ),
    "Sterne JAC et al. RoB 2: a revised tool for assessing risk of bias in randomised "
    "trials. BMJ 2019;366:l4898.",
)

_ROBINS_I = RobTool(
    "ROBINS-I",
    _domains(
        "Bias due to confounding",
        "Bias due to selection of participants",
        "Bias in classification of interventions",
        "Bias due to deviations from intended interventions",
        "Bias due to missing data",
        "Bias in measurement of outcomes",
        "Bias in selection of the reported result",
    ),
    (
        Judgement("Low", _GREEN, "+"),
        Judgement("Moderate", _YELLOW, "\u2212"),
        Judgement("Serious", _RED, "x"),
        Judgement("Critical", _DARK_RED, "!"),
        _NI,
        _NA,
    ),
    "Sterne JAC et al. ROBINS-I: a tool for assessing risk of bias in non-randomised "
    "studies of interventions. BMJ 2016;355:i4919.",
)

_ROB1 = RobTool(
    "RoB 1",
    _domains(
        "Random sequence generation (selection bias)",
        "Allocation concealment (selection bias)",
        "Blinding of participants and personnel (performance bias)",
        "Blinding of outcome assessment (detection bias)",
        "Incomplete outcome data (attrition bias)",
        "Selective reporting (reporting bias)",
        "Other bias",
        columns=(
            "Random.sequence.generation",
            "Allocation.concealment",
            "Blinding.of.participants.and.personnel",
            "Blinding.of.outcome.assessment",
            "Incomplete.outcome.data",
            "Selective.reporting",
            "Other.sources.of.bias",
        ),
    ),
    (
        Judgement("Low", _GREEN, "+"),
        Judgement("Unclear", _YELLOW, "\u2212"),
        Judgement("High", _RED, "x"),
        _NI,
        _NA,
    ),
    "Higgins JPT et al. The Cochrane Collaboration's tool for assessing risk of bias in "
    "randomised trials. BMJ 2011;343:d5928.",
)

_QUADAS2 = RobTool(
    "QUADAS-2",
    _domains(
        "Patient selection",
        "Index test",
        "Reference standard",
        "Flow and timing",
    ),
    (
        Judgement("Low", _GREEN, "+"),
        # QUADAS-2 says "unclear"; robvis tables say "Some concerns". Both are read, and
        # the robvis spelling is written so robvis reads our files.
        Judgement("Some concerns", _YELLOW, "\u2212", ("Unclear",)),
        Judgement("High", _RED, "x"),
        _NI,
        _NA,
    ),
    "Whiting PF et al. QUADAS-2: a revised tool for the quality assessment of diagnostic "
    "accuracy studies. Ann Intern Med 2011;155:529-536.",
)

_GENERIC = RobTool(
    "Generic",
    (),
    (
        Judgement("Low", _GREEN, "+"),
        Judgement("Unclear", _YELLOW, "\u2212", ("Some concerns", "Some concern", "Moderate")),
        Judgement("High", _RED, "x", ("Serious",)),
        Judgement("Critical", _DARK_RED, "!", ("Very high",)),
        _NI,
        _NA,
    ),
    "McGuinness LA, Higgins JPT. Risk-of-bias VISualization (robvis). Res Synth Methods "
    "2021;12:55-61 (the 'Generic' template).",
)

ROB_TOOLS: Mapping[str, RobTool] = {
    "ROB2": _ROB2,
    "ROBINS-I": _ROBINS_I,
    "ROB1": _ROB1,
    "QUADAS-2": _QUADAS2,
    "GENERIC": _GENERIC,
}
"""Built-in tools by robvis' tool names (upper case)."""


def rob_tool(tool: str | RobTool) -> RobTool:
    """A built-in tool by robvis name (``ROB2``, ``ROBINS-I``, ``ROB1``, ``QUADAS-2``,
    ``Generic``; case and spaces are ignored), or ``tool`` itself if it is a RobTool.

    Examples
    --------
    >>> rob_tool("robins-i").labels
    ('Low', 'Moderate', 'Serious', 'Critical', 'No information', 'Not applicable')
    """
    if isinstance(tool, RobTool):
        return tool
    key = re.sub(r"[\s_]+", "", str(tool)).upper().replace("ROB-", "ROB")
    aliases = {"ROBINSI": "ROBINS-I", "QUADAS2": "QUADAS-2", "ROB2.0": "ROB2"}
    key = aliases.get(key, key)
    if key not in ROB_TOOLS:
        raise InputError(
            f"tool={tool!r} is not a built-in risk-of-bias tool; use one of "
            f"{', '.join(t if t != 'GENERIC' else 'Generic' for t in ROB_TOOLS)} or a RobTool"
        )
    return ROB_TOOLS[key]


@dataclass(frozen=True)
class RobTable:
    """Judgements of one tool for a set of studies: the robvis table, checked.

    Attributes
    ----------
    tool : RobTool
        The tool the judgements belong to.
    domains : tuple of Domain
        The domains in column order (for a generic tool, taken from the table).
    studies : tuple of str
        Study labels, in table order.
    judgements : tuple of tuple of str
        ``judgements[i][j]`` is the label of study ``i`` in domain ``j``.
    overall : tuple of str or None
        Overall judgement per study, if the table has an ``Overall`` column.
    weights : tuple of float or None
        Weight per study, if the table has a ``Weight`` column.
    """

    tool: RobTool
    domains: tuple[Domain, ...]
    studies: tuple[str, ...]
    judgements: tuple[tuple[str, ...], ...]
    overall: tuple[str, ...] | None = None
    weights: tuple[float, ...] | None = None

    def to_frame(self) -> pd.DataFrame:
        """The robvis-shaped table: ``Study``, one column per domain, ``Overall``, ``Weight``.

        Examples
        --------
        >>> t = rob_table(pd.DataFrame({"Study": ["A"], "D1": ["low"], "D2": ["High"],
        ...     "D3": ["Low"], "D4": ["Low"], "D5": ["Low"], "Overall": ["high"]}), "ROB2")
        >>> t.to_frame().iloc[0].tolist()
        ['A', 'Low', 'High', 'Low', 'Low', 'Low', 'High']
        """
        frame = pd.DataFrame({"Study": list(self.studies)})
        for j, domain in enumerate(self.domains):
            frame[domain.header] = [row[j] for row in self.judgements]
        if self.overall is not None:
            frame["Overall"] = list(self.overall)
        if self.weights is not None:
            frame["Weight"] = list(self.weights)
        return frame

    def matrix(self, overall: bool = True) -> pd.DataFrame:
        """Judgement labels as a study x domain-code frame (plus ``Overall`` if present)."""
        frame = pd.DataFrame(
            [list(row) for row in self.judgements],
            index=pd.Index(self.studies, name="study"),
            columns=[d.code for d in self.domains],
        )
        if overall and self.overall is not None:
            frame["Overall"] = list(self.overall)
        return frame


def rob_table(data: pd.DataFrame | str | Path, tool: str | RobTool = "ROB2") -> RobTable:
    """Check a robvis-shaped table of judgements and return it as a :class:`RobTable`.

    Parameters
    ----------
    data : pandas.DataFrame or path
        First column: study labels. Then one column per domain, named by code (``D1``),
        by domain name or by robvis' dotted header (``Random.sequence.generation``), in any
        case; optional ``Overall`` and ``Weight`` (or ``Weights``) columns. For the
        generic tool every other column is a domain. A path is read as CSV.
    tool : str or RobTool
        ``"ROB2"``, ``"ROBINS-I"``, ``"ROB1"``, ``"QUADAS-2"``, ``"Generic"`` or a RobTool.

    Returns
    -------
    RobTable

    Raises
    ------
    InputError
        A domain column is missing or unknown, a study label is empty or repeated, a cell
        is not a judgement of the tool (the message names row, study, column and the
        allowed values), or a weight is not a finite number >= 0.

    Examples
    --------
    >>> df = pd.DataFrame({"Study": ["Cook 2012", "Rogers 2016"],
    ...     "D1": ["Low", "Some concerns"], "D2": ["Low", "High"], "D3": ["Low", "Low"],
    ...     "D4": ["Low", "Low"], "D5": ["Low", "Low"], "Overall": ["Low", "High"]})
    >>> t = rob_table(df, "ROB2")
    >>> t.studies, t.overall
    (('Cook 2012', 'Rogers 2016'), ('Low', 'High'))
    >>> try:
    ...     rob_table(df.assign(D2=["Low", "Bad"]), "ROB2")
    ... except InputError as err:
    ...     print(err)
    row 2 (study 'Rogers 2016'), column 'D2': 'Bad' is not a RoB 2 judgement; allowed: Low,
    Some concerns, High, No information, Not applicable
    """
    rob = rob_tool(tool)
    frame = _as_frame(data)
    study_col, domain_cols, overall_col, weight_col = _split_columns(frame, rob)
    studies = _study_labels(frame, study_col)
    domains = rob.domains or tuple(
        Domain(f"D{i}", re.sub(r"[._]+", " ", str(c)).strip(), str(c))
        for i, c in enumerate(domain_cols, 1)
    )
    judgements = tuple(
        tuple(_cell(frame, r, c, studies[r], rob) for c in domain_cols) for r in range(len(frame))
    )
    overall = None
    if overall_col is not None:
        overall = tuple(_cell(frame, r, overall_col, studies[r], rob) for r in range(len(frame)))
    weights = None if weight_col is None else _weights(frame, weight_col, studies)
    return RobTable(rob, domains, studies, judgements, overall, weights)


def read_rob_table(path: str | Path, tool: str | RobTool = "ROB2") -> RobTable:
    """Read a robvis-shaped CSV file; see :func:`rob_table` for the columns and checks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "rob.csv"
    ...     _ = p.write_text("Study,D1,D2,D3,D4\\nSmith 2020,Low,Unclear,High,Low\\n")
    ...     read_rob_table(p, "QUADAS-2").judgements
    (('Low', 'Some concerns', 'High', 'Low'),)
    """
    return rob_table(Path(path), tool)


def write_rob_table(table: RobTable, path: str | Path) -> Path:
    """Write a table as the CSV robvis reads (``Study``, domains, ``Overall``, ``Weight``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> t = rob_table(pd.DataFrame({"Study": ["A"], "D1": ["low"], "D2": ["low"],
    ...     "D3": ["low"], "D4": ["unclear"]}), "QUADAS-2")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(write_rob_table(t, pathlib.Path(d) / "q.csv").read_text(), end="")
    Study,D1,D2,D3,D4
    A,Low,Low,Low,Some concerns
    """
    target = Path(path)
    table.to_frame().to_csv(target, index=False, lineterminator="\n")
    return target


def _as_frame(data: pd.DataFrame | str | Path) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True)
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.is_file():
            raise InputError(f"data: risk-of-bias table {str(path)!r} does not exist")
        # Judgements are text; "NA" must stay visible as a value, not become NaN silently.
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    raise InputError(f"data: expected a pandas DataFrame or a CSV path, got {type(data)!r}")


def _split_columns(
    frame: pd.DataFrame, tool: RobTool
) -> tuple[Any, list[Any], Any | None, Any | None]:
    if frame.shape[1] < 2:
        raise InputError(
            f"data has {frame.shape[1]} column(s); a risk-of-bias table needs a study column "
            "and at least one domain column"
        )
    study_col, rest = frame.columns[0], list(frame.columns[1:])
    overall_col = next((c for c in rest if _norm_header(c) in _OVERALL_NAMES), None)
    weight_col = next((c for c in rest if _norm_header(c) in ("weight", "weights")), None)
    others = [c for c in rest if c is not overall_col and c is not weight_col]
    if not tool.domains:
        if not others:
            raise InputError("data: the table has no domain columns")
        return study_col, others, overall_col, weight_col
    return study_col, _match_domains(others, tool), overall_col, weight_col


_OVERALL_NAMES = ("overall", "overall risk of bias", "overall bias")


def _match_domains(columns: list[Any], tool: RobTool) -> list[Any]:
    names: dict[str, int] = {}
    for j, domain in enumerate(tool.domains):
        for spelling in (domain.code, domain.name, domain.column):
            if spelling:
                names[_norm_header(spelling)] = j
    found: dict[int, Any] = {}
    expected = ", ".join(d.header for d in tool.domains)
    for col in columns:
        hit = names.get(_norm_header(col))
        if hit is None or hit in found:
            why = "is not a domain" if hit is None else "repeats a domain"
            raise InputError(
                f"column {str(col)!r} {why} of {tool.name}; expected columns: Study, "
                f"{expected}, optional Overall and Weight"
            )
        found[hit] = col
    missing = [tool.domains[j].header for j in range(len(tool.domains)) if j not in found]
    if missing:
        raise InputError(
            f"column(s) {', '.join(repr(m) for m in missing)} missing from the {tool.name} "
            f"table; expected columns: Study, {expected}, optional Overall and Weight"
        )
    return [found[j] for j in range(len(tool.domains))]


def _study_labels(frame: pd.DataFrame, column: Any) -> tuple[str, ...]:
    if frame.empty:
        raise InputError("data: the risk-of-bias table has no studies (no rows)")
    labels: list[str] = []
    for r, value in enumerate(frame[column].tolist()):
        text = "" if _is_missing(value) else str(value).strip()
        if not text:
            raise InputError(f"row {r + 1}, column {str(column)!r}: the study label is empty")
        if text in labels:
            raise InputError(
                f"row {r + 1}, column {str(column)!r}: study {text!r} appears twice; "
                "each study needs one row"
            )
        labels.append(text)
    return tuple(labels)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cell(frame: pd.DataFrame, row: int, column: Any, study: str, tool: RobTool) -> str:
    value = frame[column].iloc[row]
    allowed = ", ".join(tool.labels)
    where = f"row {row + 1} (study {study!r}), column {str(column)!r}"
    if _is_missing(value) or not str(value).strip():
        raise InputError(f"{where}: the judgement is empty; allowed: {allowed}")
    try:
        return tool.judgement(str(value)).label
    except KeyError:
        raise InputError(
            f"{where}: {str(value)!r} is not a {tool.name} judgement; allowed: {allowed}"
        ) from None


def _weights(frame: pd.DataFrame, column: Any, studies: tuple[str, ...]) -> tuple[float, ...]:
    out: list[float] = []
    for r, value in enumerate(frame[column].tolist()):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not np.isfinite(number) or number < 0:
            raise InputError(
                f"row {r + 1} (study {studies[r]!r}), column {str(column)!r}: weight "
                f"{value!r} is not allowed; weights must be finite numbers >= 0"
            )
        out.append(number)
    return tuple(out)
