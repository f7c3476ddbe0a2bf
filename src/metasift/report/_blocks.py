"""The pieces a report section is made of: tables of formatted cells and inline figures.

Sections build these from results; the templates only lay them out, so every number in
the HTML is formatted in Python (:mod:`metasift.report._format`) and nothing is computed in
a template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

__all__ = ["Figure", "Table", "TableRow", "humanise"]


@dataclass(frozen=True)
class TableRow:
    """One row: its cells (text) and its kind.

    ``kind`` is ``""`` for a data row, ``"group"`` for a heading row whose one cell spans
    the table, ``"total"`` for a summary row and ``"muted"`` for a row without a result
    (such as "not applicable").
    """

    cells: tuple[str, ...]
    kind: str = ""


@dataclass(frozen=True)
class Table:
    """A table of the report.

    Attributes
    ----------
    key : str
        The table's HTML id.
    caption : str
        Its caption ("Table 2. ...").
    header : tuple of str
        Column headings.
    rows : tuple of TableRow
        The rows, cells already formatted.
    numeric : tuple of bool
        Per column, whether it holds numbers (right-aligned).
    note : str
        A note under the table (abbreviations, what a dash means).
    """

    key: str
    caption: str
    header: tuple[str, ...]
    rows: tuple[TableRow, ...]
    numeric: tuple[bool, ...] = ()
    note: str = ""

    @classmethod
    def build(
        cls,
        key: str,
        caption: str,
        header: Sequence[str],
        rows: Sequence[TableRow | Sequence[str]],
        numeric: Sequence[bool] = (),
        note: str = "",
    ) -> Table:
        """A table from plain sequences (a row that is not a TableRow is a data row).

        Examples
        --------
        >>> t = Table.build("t1", "Counts", ["Category", "k"], [["CAU", "8"]], [False, True])
        >>> t.rows[0].cells, t.numeric
        (('CAU', '8'), (False, True))
        """
        built = tuple(
            r if isinstance(r, TableRow) else TableRow(tuple(str(c) for c in r)) for r in rows
        )
        flags = tuple(numeric) or (False,) * len(header)
        wrong = [r.cells for r in built if r.kind != "group" and len(r.cells) != len(header)]
        if wrong or len(flags) != len(header):
            # A section building a table wrongly is a bug of the report, not of the input.
            raise ValueError(f"table {key!r}: rows {wrong[:2]} do not fit header {header}")
        return cls(key, caption, tuple(header), built, flags, note)


@dataclass(frozen=True)
class Figure:
    """An inline figure: the SVG markup, its HTML id and caption."""

    key: str
    caption: str
    svg: Markup
    notes: tuple[str, ...] = field(default=())


def humanise(name: str) -> str:
    """An identifier as words: ``"diagnosis_inclusion"`` -> ``"Diagnosis inclusion"``.

    Examples
    --------
    >>> humanise("percent_women"), humanise("CAU")
    ('Percent women', 'CAU')
    """
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]
