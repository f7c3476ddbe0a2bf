"""How the report writes numbers: every number of the HTML report passes through here.

The style is that of a journal's results section: ``SMD=0.20, 95% CI=0.11–0.29, p<0.001;
I²=47%, p=0.02, N=4,104``. Decimals and the typographic minus come from
:func:`metasift.plots._common.fmt_num`, so the text and the figures print a value alike.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from metasift.plots._common import MINUS, fmt_num

__all__ = [
    "MISSING",
    "ci_text",
    "count",
    "is_number",
    "number",
    "p_text",
    "p_value",
    "percent",
    "share",
    "symbols",
]

#: Shown where a value is not known (NaN, None, empty).
MISSING = "–"


def is_number(value: Any) -> bool:
    """True for a finite int or float (bools and text are not numbers here).

    Examples
    --------
    >>> is_number(0.2), is_number(float("nan")), is_number(None), is_number("3")
    (True, False, False, False)
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return False
    return math.isfinite(float(value))


def number(value: Any, digits: int = 2) -> str:
    """A number with ``digits`` decimals and a typographic minus; a dash when missing.

    Examples
    --------
    >>> number(0.19951), number(-0.0196), number(float("nan"))
    ('0.20', '−0.02', '–')
    """
    return fmt_num(float(value), digits) if is_number(value) else MISSING


def count(value: Any) -> str:
    """A whole number with thousands separators (``4,104``); a dash when missing.

    Examples
    --------
    >>> count(4104), count(12477.0), count(None)
    ('4,104', '12,477', '–')
    """
    return f"{round(float(value)):,}" if is_number(value) else MISSING


def participants(row: Any) -> str:
    """Participants of a pooled row: ``≥`` when some comparisons have no group sizes
    (``n_unknown``), as the tables of the synthesis write it.

    Examples
    --------
    >>> participants({"n": 2744, "n_unknown": 7}), participants({"n": 4104, "n_unknown": 0})
    ('≥2,744', '4,104')
    """
    shown = count(row.get("n"))
    unknown = row.get("n_unknown")
    return f"≥{shown}" if is_number(row.get("n")) and is_number(unknown) and unknown else shown


def percent(fraction: Any, digits: int = 0) -> str:
    """A fraction as a percentage (``0.4254`` -> ``43%``); a dash when missing.

    Examples
    --------
    >>> percent(0.4254), percent(0.0999), percent(0.125, 1), percent(float("nan"))
    ('43%', '10%', '12.5%', '–')
    """
    if not is_number(fraction):
        return MISSING
    return f"{fmt_num(100 * float(fraction), digits)}%"


def share(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole`` (no decimals), a dash when ``whole`` is 0.

    Examples
    --------
    >>> share(7, 28), share(0, 0)
    ('25%', '–')
    """
    return percent(part / whole) if whole else MISSING


def p_value(p: Any) -> str:
    """A p-value for a table cell: ``0.02``, ``0.004``, ``<0.001``; a dash when missing.

    Notes
    -----
    Below 0.001 the value is bounded; below 0.01 it has three decimals, otherwise two
    (the rule of :func:`metasift.plots._common.fmt_p`, which the figures use), so that
    ``p=0.03`` in the text is ``P = 0.03`` in the forest plot.

    Examples
    --------
    >>> p_value(0.0264), p_value(0.0041), p_value(2e-9), p_value(None)
    ('0.03', '0.004', '<0.001', '–')
    """
    if not is_number(p):
        return MISSING
    value = float(p)
    if value < 0.001:
        return "<0.001"
    return f"{value:.3f}" if value < 0.01 else f"{value:.2f}"


def p_text(p: Any, *, sep: str = "") -> str:
    """A p-value as the results section writes it: ``p<0.001``, ``p=0.004``, ``p=0.02``.

    Parameters
    ----------
    p : float
        The p-value (formatted by :func:`p_value`).
    sep : str
        Put around the relation sign (``" "`` gives ``p = 0.02``).

    Examples
    --------
    >>> p_text(0.0264), p_text(0.0041), p_text(2e-9), p_text(float("nan"))
    ('p=0.03', 'p=0.004', 'p<0.001', 'p=–')
    >>> p_text(0.5, sep=" ")
    'p = 0.50'
    """
    value = p_value(p)
    if value.startswith("<"):
        return f"p{sep}<{sep}{value[1:]}"
    return f"p{sep}={sep}{value}"


def ci_text(lower: Any, upper: Any, digits: int = 2) -> str:
    """The limits of an interval: ``0.11–0.29``, or ``−0.02 to 0.18`` when a limit is
    negative (an en dash next to a minus sign would read as a range of negatives).

    Examples
    --------
    >>> ci_text(0.1108, 0.2681), ci_text(-0.0196, 0.1791), ci_text(float("nan"), 1)
    ('0.11–0.27', '−0.02 to 0.18', '–')
    """
    if not (is_number(lower) and is_number(upper)):
        return MISSING
    low, high = number(lower, digits), number(upper, digits)
    joint = " to " if low.startswith(MINUS) or high.startswith(MINUS) else "–"
    return f"{low}{joint}{high}"


def symbols(text: str) -> str:
    """ASCII spellings of results' notes (``tau^2``, ``I^2``) as the report prints them.

    Examples
    --------
    >>> symbols("tau^2 estimate is on the boundary 0; I^2 = 0")
    'τ² estimate is on the boundary 0; I² = 0'
    """
    return str(text).replace("tau^2", "τ²").replace("I^2", "I²").replace("chi^2", "χ²")
