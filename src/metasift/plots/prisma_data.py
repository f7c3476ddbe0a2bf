"""Counts of a PRISMA 2020 flow diagram, read from and written to the PRISMA2020 CSV.

The variables and the CSV layout are those of the PRISMA2020 R package and Shiny app
(Haddaway et al. 2022, Campbell Systematic Reviews 18:e1230; file
``inst/extdata/PRISMA.csv``): one row per count, the variable name in column ``data`` and
the value in column ``n``. Lists (records per database or register, reasons for
excluding reports) are written ``"Name, n; Name, n"``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from metasift.errors import DataWarning, InputError

__all__ = ["COUNT_VARIABLES", "LIST_VARIABLES", "PrismaCounts", "read_prisma_csv"]

COUNT_VARIABLES = (
    "previous_studies",
    "previous_reports",
    "database_results",
    "register_results",
    "website_results",
    "organisation_results",
    "citations_results",
    "duplicates",
    "excluded_automatic",
    "excluded_other",
    "records_screened",
    "records_excluded",
    "dbr_sought_reports",
    "dbr_notretrieved_reports",
    "other_sought_reports",
    "other_notretrieved_reports",
    "dbr_assessed",
    "other_assessed",
    "new_studies",
    "new_reports",
    "total_studies",
    "total_reports",
    "total_studies_ma",
    "total_reports_ma",
)
"""PRISMA2020 variables holding one count."""

LIST_VARIABLES = (
    "database_specific_results",
    "register_specific_results",
    "dbr_excluded",
    "other_excluded",
)
"""PRISMA2020 variables holding ``"Name, n; Name, n"`` lists."""

Entries = tuple[tuple[str, int | None], ...]

# Rows of the PRISMA2020 CSV in the package's order: (data, node, box, box text). The
# node and box ids are the keys the R package uses to place boxes; title rows have no
# variable (data = NA).
_CSV_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("NA", "node4", "prevstud", "Previous studies"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review"),
    ("NA", "node6", "newstud", "Identification of new studies via databases and registers"),
    ("database_results", "node7", "box2", "Databases"),
    ("database_specific_results", "NA", "box2", "Specific Databases"),
    ("register_results", "NA", "box2", "Registers"),
    ("register_specific_results", "NA", "box2", "Specific Registers"),
    ("NA", "node16", "othstud", "Identification of new studies via other methods"),
    ("website_results", "node17", "box11", "Websites"),
    ("organisation_results", "NA", "box11", "Organisations"),
    ("citations_results", "NA", "box11", "Citation searching"),
    ("duplicates", "node8", "box3", "Duplicate records"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons"),
    ("records_screened", "node9", "box4", "Records screened"),
    ("records_excluded", "node10", "box5", "Records excluded"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility"),
    ("dbr_excluded", "node14", "box9", "Reports excluded"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility"),
    ("other_excluded", "node21", "box15", "Reports excluded"),
    ("new_studies", "node15", "box10", "New studies included in review"),
    ("new_reports", "NA", "box10", "Reports of new included studies"),
    ("total_studies", "node22", "box16", "Total studies included in review"),
    ("total_reports", "NA", "box16", "Reports of total included studies"),
    ("identification", "node1", "identification", "Identification"),
    ("screening", "node2", "screening", "Screening"),
    ("included", "node3", "included", "Included"),
    ("total_studies_ma", "node23", "box17", "Total studies included in meta-analysis"),
    ("total_reports_ma", "NA", "box17", "Reports of total included studies in meta-analysis"),
)
_TITLE_IDS = {"NA", "identification", "screening", "included"}
_MISSING = {"", "na", "xxx", "nan"}


@dataclass(frozen=True)
class PrismaCounts:
    """The counts of a PRISMA 2020 flow diagram; ``None`` means "not reported".

    Field names are the PRISMA2020 R package's variables (see :data:`COUNT_VARIABLES`
    and :data:`LIST_VARIABLES`). List fields hold ``(name, n)`` pairs; an exclusion count
    given without reasons is one pair with an empty name.

    Examples
    --------
    >>> c = PrismaCounts.from_mapping({"records_screened": "3,455", "new_studies": 30,
    ...     "dbr_excluded": {"Not an RCT": 12, "No peer support": 7}})
    >>> c.records_screened, c.dbr_excluded
    (3455, (('Not an RCT', 12), ('No peer support', 7)))
    """

    previous_studies: int | None = None
    previous_reports: int | None = None
    database_results: int | None = None
    database_specific_results: Entries | None = None
    register_results: int | None = None
    register_specific_results: Entries | None = None
    website_results: int | None = None
    organisation_results: int | None = None
    citations_results: int | None = None
    duplicates: int | None = None
    excluded_automatic: int | None = None
    excluded_other: int | None = None
    records_screened: int | None = None
    records_excluded: int | None = None
    dbr_sought_reports: int | None = None
    dbr_notretrieved_reports: int | None = None
    other_sought_reports: int | None = None
    other_notretrieved_reports: int | None = None
    dbr_assessed: int | None = None
    dbr_excluded: Entries | None = None
    other_assessed: int | None = None
    other_excluded: Entries | None = None
    new_studies: int | None = None
    new_reports: int | None = None
    total_studies: int | None = None
    total_reports: int | None = None
    total_studies_ma: int | None = None
    total_reports_ma: int | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PrismaCounts:
        """Counts from a mapping variable -> value.

        Counts may be ints, strings such as ``"1,234"``, or ``None``/``"NA"``. Lists may be
        a mapping name -> n, a sequence of ``(name, n)`` pairs or a ``"Name, n; ..."``
        string.
        """
        allowed = set(COUNT_VARIABLES) | set(LIST_VARIABLES)
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise InputError(
                f"counts: {', '.join(repr(u) for u in unknown)} not PRISMA2020 variable(s); "
                f"allowed: {', '.join(COUNT_VARIABLES + LIST_VARIABLES)}"
            )
        parsed: dict[str, Any] = {}
        for name, value in values.items():
            if name in LIST_VARIABLES:
                parsed[name] = _entries(name, value)
            else:
                parsed[name] = _count(name, value)
        return cls(**parsed)

    def to_frame(self) -> pd.DataFrame:
        """The PRISMA2020 CSV as a frame (columns data, node, box, description, boxtext,
        tooltips, url, n), ready for the R package or Shiny app."""
        rows = []
        for data, node, box, boxtext in _CSV_ROWS:
            value = getattr(self, data, None) if data not in _TITLE_IDS else None
            if data in LIST_VARIABLES:
                n = _format_entries(data, value)
            elif data in _TITLE_IDS:
                n = "0"
            else:
                n = "NA" if value is None else str(value)
            rows.append((data, node, box, boxtext, boxtext, boxtext, "NA", n))
        cols = ["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"]
        return pd.DataFrame(rows, columns=cols)

    def write_csv(self, path: str | Path) -> Path:
        """Write the PRISMA2020 CSV (see :meth:`to_frame`).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> c = PrismaCounts(records_screened=3455, new_studies=30, total_studies_ma=28)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     back = read_prisma_csv(c.write_csv(pathlib.Path(d) / "PRISMA.csv"))
        >>> back == c
        True
        """
        target = Path(path)
        self.to_frame().to_csv(target, index=False, lineterminator="\n")
        return target

    def check(self) -> list[str]:
        """Sums that do not add up, as messages (empty when all known counts agree).

        Notes
        -----
        Checked where every term is reported: per-database (register) counts sum to
        ``database_results`` (``register_results``); records screened = identified -
        removed before screening; reports sought = screened - excluded; reports assessed
        = sought - not retrieved (for both routes); total studies (reports) = new +
        previous; studies in the meta-analysis <= studies in the review.
        """
        msgs: list[str] = []
        for total, parts in (
            ("database_results", "database_specific_results"),
            ("register_results", "register_specific_results"),
        ):
            _compare(msgs, total, getattr(self, total), _entry_sum(getattr(self, parts)))
        _compare(
            msgs,
            "records_screened",
            self.records_screened,
            _combine(
                (1, self.database_results),
                (1, self.register_results),
                (-1, self.duplicates),
                (-1, self.excluded_automatic),
                (-1, self.excluded_other),
            ),
        )
        _compare(
            msgs,
            "dbr_sought_reports",
            self.dbr_sought_reports,
            _combine((1, self.records_screened), (-1, self.records_excluded)),
        )
        _compare(
            msgs,
            "dbr_assessed",
            self.dbr_assessed,
            _combine((1, self.dbr_sought_reports), (-1, self.dbr_notretrieved_reports)),
        )
        _compare(
            msgs,
            "other_assessed",
            self.other_assessed,
            _combine((1, self.other_sought_reports), (-1, self.other_notretrieved_reports)),
        )
        if self.previous_studies is not None:
            _compare(
                msgs,
                "total_studies",
                self.total_studies,
                _combine((1, self.new_studies), (1, self.previous_studies)),
            )
            _compare(
                msgs,
                "total_reports",
                self.total_reports,
                _combine((1, self.new_reports), (1, self.previous_reports)),
            )
        included = self.total_studies if self.total_studies is not None else self.new_studies
        ma = self.total_studies_ma
        if included is not None and ma is not None and ma > included:
            msgs.append(
                f"total_studies_ma = {self.total_studies_ma} is more than the "
                f"{included} studies included in the review"
            )
        return msgs

    def warn_if_inconsistent(self) -> None:
        """Issue one :class:`~metasift.errors.DataWarning` listing :meth:`check`'s messages."""
        msgs = self.check()
        if msgs:
            warnings.warn(
                "PRISMA counts do not add up: " + "; ".join(msgs), DataWarning, stacklevel=3
            )


def _compare(msgs: list[str], name: str, value: int | None, expected: int | None) -> None:
    if value is not None and expected is not None and value != expected:
        msgs.append(f"{name} = {value} but the counts it follows from give {expected}")


def _combine(*terms: tuple[int, int | None]) -> int | None:
    if any(v is None for _, v in terms):
        return None
    return sum(sign * v for sign, v in terms if v is not None)


def _entry_sum(entries: Entries | None) -> int | None:
    if not entries or any(n is None for _, n in entries):
        return None
    return sum(n for _, n in entries if n is not None)


def _count(name: str, value: Any) -> int | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        raise InputError(f"{name} = {value!r}: expected a whole number >= 0")
    if isinstance(value, (int, float)):
        if value < 0 or int(value) != value:
            raise InputError(f"{name} = {value!r}: expected a whole number >= 0")
        return int(value)
    text = str(value).strip()
    if text.lower() in _MISSING:
        return None
    if not re.fullmatch(r"\d{1,3}(,\d{3})+|\d+", text):
        raise InputError(
            f"{name} = {text!r} is not a count; expected a whole number >= 0 "
            "(thousands may be separated by commas), NA or empty"
        )
    return int(text.replace(",", ""))


def _entries(name: str, value: Any) -> Entries | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, Mapping):
        return tuple((str(k).strip(), _count(f"{name}[{k!r}]", v)) for k, v in value.items())
    if isinstance(value, (int, float)):
        return (("", _count(name, value)),)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(_pair(name, item) for item in value)
    text = str(value).strip()
    if text.lower() in _MISSING:
        return None
    if re.fullmatch(r"[\d,\s]+", text):
        return (("", _count(name, text.replace(" ", ""))),)
    out = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        label, _, n = part.partition(",")
        out.append((label.strip(), _count(f"{name} ({label.strip()!r})", n.strip())))
    return tuple(out)


def _pair(name: str, item: Any) -> tuple[str, int | None]:
    if isinstance(item, str) or not isinstance(item, Sequence) or len(item) != 2:
        raise InputError(f"{name}: entry {item!r} is not a (name, n) pair")
    return str(item[0]).strip(), _count(f"{name} ({item[0]!r})", item[1])


def _format_entries(name: str, entries: Any) -> str:
    if entries is None:
        return "NA"
    parts = []
    for label, n in entries:
        if re.search(r"[,;]", label):
            raise InputError(
                f"{name}: name {label!r} contains ',' or ';', which the PRISMA2020 CSV uses "
                "as separators; rename it"
            )
        count = "NA" if n is None else str(n)
        parts.append(f"{label}, {count}" if label else count)
    return "; ".join(parts)


def read_prisma_csv(path: str | Path) -> PrismaCounts:
    """Read counts from a PRISMA2020 CSV (the R package's ``PRISMA.csv`` template).

    Only the columns ``data`` (variable) and ``n`` (value) are used. ``NA``, empty cells and
    the template's ``xxx`` placeholders mean "not reported".

    Raises
    ------
    InputError
        A column is missing, a variable appears twice or a value is not a count. Unknown
        variables are ignored with a :class:`~metasift.errors.DataWarning`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "PRISMA.csv"
    ...     _ = p.write_text('data,n\\nrecords_screened,"3,455"\\n'
    ...                      'database_specific_results,"PubMed, 1200; PsycInfo, 800"\\n')
    ...     c = read_prisma_csv(p)
    >>> c.records_screened, c.database_specific_results
    (3455, (('PubMed', 1200), ('PsycInfo', 800)))
    """
    target = Path(path)
    if not target.is_file():
        raise InputError(f"path: PRISMA CSV {str(target)!r} does not exist")
    frame = pd.read_csv(target, dtype=str, keep_default_na=False)
    missing = [c for c in ("data", "n") if c not in frame.columns]
    if missing:
        raise InputError(
            f"{str(target)!r}: column(s) {missing} missing; a PRISMA2020 CSV has columns "
            "data, node, box, description, boxtext, tooltips, url, n"
        )
    values: dict[str, str] = {}
    ignored: list[str] = []
    allowed = set(COUNT_VARIABLES) | set(LIST_VARIABLES)
    for line, (name, n) in enumerate(zip(frame["data"], frame["n"], strict=True), start=2):
        name = name.strip()
        if name in _TITLE_IDS:
            continue
        if name not in allowed:
            ignored.append(name)
        elif name in values:
            raise InputError(f"{str(target)!r} line {line}: variable {name!r} appears twice")
        else:
            values[name] = n
    if ignored:
        warnings.warn(
            f"{str(target)!r}: ignored unknown PRISMA variable(s) {ignored}",
            DataWarning,
            stacklevel=2,
        )
    return PrismaCounts.from_mapping(values)
