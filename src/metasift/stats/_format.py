"""How the results of the stats layer show themselves: numbers and p-values in summaries, the
``Note:`` lines, one-row frames and the HTML of notebooks.

Results keep full precision; rounding happens only here, when a value is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: Names of the tau^2 estimators, by metafor's method code, for headers of summaries.
METHOD_NAMES = {
    "EE": "equal-effects",
    "FE": "equal-effects",
    "DL": "DerSimonian-Laird",
    "DLIT": "iterated DerSimonian-Laird",
    "HE": "Hedges",
    "HS": "Hunter-Schmidt",
    "HSk": "Hunter-Schmidt (k-corrected)",
    "SJ": "Sidik-Jonkman",
    "SJIT": "iterated Sidik-Jonkman",
    "ML": "maximum likelihood",
    "REML": "restricted maximum likelihood",
    "EB": "empirical Bayes",
    "PM": "Paule-Mandel",
    "PMM": "median-unbiased Paule-Mandel",
}


def fmt(x: float, digits: int = 4) -> str:
    """``x`` with ``digits`` decimals, or ``"NaN"`` when it is not finite.

    Examples
    --------
    >>> fmt(0.123456), fmt(47.0, 0), fmt(float("inf"))
    ('0.1235', '47', 'NaN')
    """
    return "NaN" if not np.isfinite(x) else f"{x:.{digits}f}"


def pfmt(p: float) -> str:
    """A p-value with 4 decimals, ``"< .0001"`` below 1e-4, ``"NaN"`` when missing.

    Examples
    --------
    >>> pfmt(0.04567), pfmt(3e-7), pfmt(float("nan"))
    ('0.0457', '< .0001', 'NaN')
    """
    if not np.isfinite(p):
        return "NaN"
    return "< .0001" if p < 1e-4 else f"{p:.4f}"


def four_decimals(x: float) -> str:
    """The ``float_format`` of the tables in summaries and notebooks."""
    return f"{x:.4f}"


def with_notes(lines: Sequence[str], notes: Sequence[str]) -> str:
    """The lines of a summary and a ``Note:`` line for each note, as one text.

    Examples
    --------
    >>> print(with_notes(["estimate = 0.2000"], ["tau^2 estimate is on the boundary 0"]))
    estimate = 0.2000
    Note: tau^2 estimate is on the boundary 0
    """
    return "\n".join([*lines, *(f"Note: {n}" for n in notes)])


def one_row(result: object, names: Sequence[str]) -> pd.DataFrame:
    """The attributes ``names`` of ``result`` as a one-row DataFrame, in that column order.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> one_row(SimpleNamespace(k=3, pval=0.5), ("k", "pval"))
       k  pval
    0  3   0.5
    """
    import pandas as pd

    return pd.DataFrame([{name: getattr(result, name) for name in names}])


def html(title: str, table: pd.DataFrame, *, index: bool = False, rounded: bool = True) -> str:
    """A result in a notebook: the title in bold over the table (floats to 4 decimals).

    Examples
    --------
    >>> import pandas as pd
    >>> html("Fit", pd.DataFrame({"k": [3]}), rounded=False)[:20]
    '<p><b>Fit</b></p><ta'
    """
    body = table.to_html(index=index, float_format=four_decimals if rounded else None)
    return f"<p><b>{title}</b></p>{body}"
