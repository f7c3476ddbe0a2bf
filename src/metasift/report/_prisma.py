"""The PRISMA 2020 flow diagram of the report, and where its counts come from.

When records were imported and screened in metasift, every count is derived from the
store (:meth:`Review.prisma`). Otherwise the counts are read from ``prisma.csv`` in the
review folder (or in its ``data`` folder), in the PRISMA2020 CSV layout
(:func:`metasift.plots.read_prisma_csv`); a box whose count the file does not give says
"not reported" instead of a number. The number
of studies in the meta-analysis, which only the synthesis knows, fills the last box when
the counts do not give it.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path

from metasift.errors import DataWarning
from metasift.plots import PrismaCounts, prisma_flow, read_prisma_csv
from metasift.plots.prisma_data import LIST_VARIABLES
from metasift.report._blocks import Figure, Table
from metasift.report._format import count
from metasift.report._svg import SvgFigures
from metasift.review.project import Review

__all__ = ["PRISMA_FILES", "PrismaSection", "counts_table", "prisma_counts", "prisma_section"]

#: Where the counts of a review screened outside metasift are looked for, in the review
#: folder, in this order.
PRISMA_FILES = ("prisma.csv", "PRISMA.csv", "data/prisma.csv")
_OPTIONAL = ("previous", "website", "organisation", "citations", "other", "total_reports_ma")
#: Shown in a box whose count is not known.
NOT_REPORTED = "not reported"


#: The boxes of the diagram, by PRISMA2020 variable, in the order of the diagram.
BOXES = (
    ("previous_studies", "Studies included in previous version of review"),
    ("previous_reports", "Reports of studies included in previous version of review"),
    ("database_results", "Records identified from databases"),
    ("database_specific_results", "Records identified from"),
    ("register_results", "Records identified from registers"),
    ("register_specific_results", "Records identified from"),
    ("website_results", "Records identified from websites"),
    ("organisation_results", "Records identified from organisations"),
    ("citations_results", "Records identified from citation searching"),
    ("duplicates", "Duplicate records removed"),
    ("excluded_automatic", "Records marked as ineligible by automation tools"),
    ("excluded_other", "Records removed for other reasons"),
    ("records_screened", "Records screened"),
    ("records_excluded", "Records excluded"),
    ("dbr_sought_reports", "Reports sought for retrieval"),
    ("dbr_notretrieved_reports", "Reports not retrieved"),
    ("dbr_assessed", "Reports assessed for eligibility"),
    ("dbr_excluded", "Reports excluded"),
    ("other_sought_reports", "Reports sought for retrieval (other methods)"),
    ("other_notretrieved_reports", "Reports not retrieved (other methods)"),
    ("other_assessed", "Reports assessed for eligibility (other methods)"),
    ("other_excluded", "Reports excluded (other methods)"),
    ("new_studies", "Studies included in review"),
    ("new_reports", "Reports of included studies"),
    ("total_studies", "Total studies included in review"),
    ("total_reports", "Reports of total included studies"),
    ("total_studies_ma", "Studies included in meta-analysis"),
    ("total_reports_ma", "Reports of studies included in meta-analysis"),
)


@dataclass(frozen=True)
class PrismaSection:
    """The flow diagram (None without counts), its counts as a table (the diagram's text
    alternative), where the counts came from, and notes."""

    figure: Figure | None
    table: Table | None
    source: str
    notes: tuple[str, ...]


def counts_table(counts: PrismaCounts) -> Table:
    """Every count of the diagram, "not reported" where the counts do not give it.

    Examples
    --------
    >>> t = counts_table(PrismaCounts(records_screened=3455, dbr_excluded=(("Not RCT", 9),)))
    >>> [r.cells for r in t.rows if r.cells[0].startswith(("Records screened", "Reports ex"))]
    [('Records screened', '3,455'), ('Reports excluded: Not RCT', '9')]
    """
    rows = []
    for name, label in BOXES:
        value = getattr(counts, name)
        optional = name.startswith(_OPTIONAL) or name in LIST_VARIABLES
        if optional and not value:
            continue  # columns and lists the diagram draws only when they have counts
        if isinstance(value, tuple):
            rows += [(f"{label}: {entry}" if entry else label, _n(n)) for entry, n in value]
        else:
            rows.append((label, _n(value)))
    return Table.build(
        "table-prisma",
        "Counts of the PRISMA 2020 flow diagram",
        ["Box", "n"],
        rows,
        [False, True],
    )


def _n(value: int | None) -> str:
    return NOT_REPORTED if value is None else count(value)


def _store_counts(review: Review) -> tuple[PrismaCounts | None, list[str]]:
    flow = review.prisma()
    identified = (
        flow.database_results
        + flow.register_results
        + flow.website_results
        + flow.organisation_results
        + flow.citations_results
    )
    if identified == 0:
        return None, []
    notes = [
        f"Screening is in progress: {n} record(s) at {stage.replace('_', '/')} have no final "
        "decision yet."
        for stage, n in flow.pending.items()
        if n
    ]
    return PrismaCounts.from_mapping(flow.as_dict()), notes


def prisma_counts(review: Review) -> tuple[PrismaCounts | None, str, list[str]]:
    """The counts, their source (``"store"``, the CSV's path or ``""``) and notes.

    Raises
    ------
    InputError
        ``prisma.csv`` exists but is not a PRISMA2020 CSV (the message names the line).
    """
    counts, notes = _store_counts(review)
    if counts is not None:
        return counts, "store", notes
    for name in PRISMA_FILES:
        path = Path(review.folder) / name
        if path.is_file():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DataWarning)
                found = read_prisma_csv(path)
            for item in caught:  # shown in the report, and told at once
                warnings.warn(str(item.message), DataWarning, stacklevel=2)
            return found, name, [str(w.message) for w in caught]
    return None, "", []


def _with_meta_analysis(counts: PrismaCounts, studies_in_ma: int | None) -> tuple:
    if counts.total_studies_ma is not None or studies_in_ma is None:
        return counts, []
    note = (
        f"Studies included in the meta-analysis ({count(studies_in_ma)}): the studies with "
        "at least one comparison in an analysis."
    )
    return dataclasses.replace(counts, total_studies_ma=studies_in_ma), [note]


def prisma_section(
    review: Review, figures: SvgFigures, studies_in_ma: int | None = None
) -> PrismaSection:
    """The PRISMA 2020 flow diagram of the review (see the module docstring).

    Counts that do not add up are drawn as they are and named in a note (and a
    :class:`~metasift.errors.DataWarning`).
    """
    counts, source, notes = prisma_counts(review)
    if counts is None:
        why = (
            "No PRISMA flow diagram: no records were imported into the store, and the "
            f"review folder has no {PRISMA_FILES[0]} (the PRISMA2020 CSV layout)."
        )
        return PrismaSection(None, None, "", (why,))
    counts, more = _with_meta_analysis(counts, studies_in_ma)
    notes += more
    problems = counts.check()
    if problems:
        message = "PRISMA counts do not add up: " + "; ".join(problems)
        warnings.warn(message, DataWarning, stacklevel=2)
        notes.append(message)
    fig = prisma_flow(counts, missing=NOT_REPORTED, check=False)
    origin = (
        "derived from the records, decisions and studies in the review's store"
        if source == "store"
        else f"read from {source} in the review folder; boxes without a count say '{NOT_REPORTED}'"
    )
    figure = Figure(
        "prisma",
        f"PRISMA 2020 flow diagram. Counts {origin}.",
        figures.inline(fig, "prisma", "PRISMA 2020 flow diagram"),
    )
    return PrismaSection(figure, counts_table(counts), source, tuple(notes))
