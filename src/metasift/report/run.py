"""Rebuild every output of a review from its folder: :func:`run_review` (``metasift run``)."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from metasift.errors import InputError
from metasift.report.tables import write_tables
from metasift.review import Review
from metasift.synthesis import SynthesisResults, run_analysis

__all__ = ["RunResult", "run_review"]

#: The module of the HTML report, written when it is installed.
HTML_MODULE = "metasift.report.html"


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_review` did.

    Attributes
    ----------
    folder : Path
        The review folder.
    output : Path
        The output folder.
    results : SynthesisResults
        The analyses of the plan.
    tables : tuple of Path
        The table files written (CSV, JSON, XLSX).
    report : Path or None
        The HTML report, when the report module is available.
    """

    folder: Path
    output: Path
    results: SynthesisResults = field(repr=False)
    tables: tuple[Path, ...] = field(repr=False)
    report: Path | None = None

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written: the tables, then the report."""
        return (*self.tables, *([self.report] if self.report is not None else []))

    def summary(self) -> str:
        """The main result of each outcome and where the files are."""
        lines = [self.results.summary(), f"Tables: {self.output / 'tables'}"]
        if self.report is not None:
            lines.append(f"Report: {self.report}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _write_report(review: Review, results: SynthesisResults, output: Path) -> Path | None:
    """The HTML report, when :mod:`metasift.report.html` is there to write it."""
    if importlib.util.find_spec(HTML_MODULE) is None:
        return None
    module = importlib.import_module(HTML_MODULE)
    writer = getattr(module, "write_report", None)
    if writer is None:
        return None
    return Path(writer(review, results, path=output / "report.html"))


def run_review(folder: str | Path = ".", *, output: str | Path | None = None) -> RunResult:
    """Open the review in ``folder``, run its analysis plan, write the tables and report.

    Parameters
    ----------
    folder : str or Path
        The review folder (with ``review.toml`` and its store).
    output : str or Path, optional
        Where to write; default ``output/`` in the review folder.

    Returns
    -------
    RunResult

    Raises
    ------
    metasift.errors.InputError
        No review.toml in ``folder``, an outcome without data, or a plan that names what
        the protocol does not have (a :class:`~metasift.review.ProtocolError`).

    Notes
    -----
    The outputs depend only on the folder (protocol and store): the tables are written
    with full precision and no timestamps, so a rerun writes the same bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> Review.create(folder).close()
    >>> text = (folder / "review.toml").read_text()
    >>> text = text.replace("[characteristics]", '[characteristics]\\ncoders = ["ann"]')
    >>> text = text.replace("[outcomes]\\n", '[outcomes.mood]\\ndirection = "higher"\\n')
    >>> _ = (folder / "review.toml").write_text(text)
    >>> with Review.open(folder) as review:
    ...     for study, yi, vi in [("A", 0.1, 0.02), ("B", 0.3, 0.03), ("C", 0.6, 0.04)]:
    ...         _ = review.add_study(study)
    ...         _ = review.extract_effect("ann", study, "mood", yi, vi)
    >>> done = run_review(folder)
    >>> done.output == folder / "output", (folder / "output/tables/tables.xlsx").is_file()
    (True, True)
    """
    where = Path(folder)
    if not where.is_dir():
        raise InputError(f"review folder {str(where)!r} does not exist")
    target = Path(output) if output is not None else where / "output"
    with Review.open(where) as review:
        results = run_analysis(review)
        tables = write_tables(results, target)
        report = _write_report(review, results, target)
    return RunResult(where, target, results, tuple(tables), report)
