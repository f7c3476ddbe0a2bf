"""Reading and checking the study-level columns given to :func:`metasift.effect_sizes`.

Each column is an array-like or, with ``data``, the name of a column of a pandas DataFrame.
Every check raises :class:`~metasift.errors.InputError` naming the argument, the study, the
value and what is allowed. Missing values (NaN, None, pandas NA) are kept as NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from metasift.errors import InputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _fmt(value: float) -> str:
    return f"{value:.12g}"


def _lookup(name: str, value: object, data: pd.DataFrame | None) -> object:
    """The column ``value`` of ``data`` when ``value`` is a string; ``value`` itself otherwise."""
    if not isinstance(value, str):
        return value
    if data is None:
        raise InputError(
            f"{name}={value!r} names a column, but no DataFrame was given as data: pass "
            f"data=<DataFrame> or give the values of {name} directly"
        )
    if value not in data.columns:
        shown = ", ".join(repr(str(c)) for c in list(data.columns)[:20])
        raise InputError(f"{name}={value!r} is not a column of data; its columns are: {shown}")
    return data[value]


def check_data(data: object) -> pd.DataFrame | None:
    """``data`` must be None or a pandas DataFrame."""
    if data is None or isinstance(data, pd.DataFrame):
        return data
    raise InputError(
        f"data must be a pandas DataFrame (or None), not {type(data).__name__}; "
        "to use a dict, pass pandas.DataFrame(your_dict)"
    )


def column(name: str, value: object, data: pd.DataFrame | None) -> FloatArray:
    """One numeric column as a 1-D float64 array (missing values as NaN)."""
    raw = _lookup(name, value, data)
    try:
        if isinstance(raw, pd.Series | pd.Index):
            arr = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must hold numbers (or NaN for missing values): {exc}") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional (one value per study); got {arr.shape}")
    return arr


def labels(slab: object, data: pd.DataFrame | None, k: int) -> tuple[str, ...]:
    """Study labels as strings: ``slab`` (values or a column name) or "Study 1", "Study 2", ..."""
    if slab is None:
        return tuple(f"Study {i + 1}" for i in range(k))
    raw = _lookup("slab", slab, data)
    values = list(raw) if isinstance(raw, pd.Series | pd.Index) else list(np.ravel(np.asarray(raw)))
    if len(values) != k:
        raise InputError(f"slab has {len(values)} labels but there are {k} studies")
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            raise InputError(f"slab[{i}] is missing: every study needs a label")
    return tuple(str(v) for v in values)


def check_lengths(columns: Mapping[str, FloatArray]) -> int:
    """The common number of studies of all columns; an error when the lengths differ."""
    sizes = {name: arr.size for name, arr in columns.items()}
    first, k = next(iter(sizes.items()))
    for name, size in sizes.items():
        if size != k:
            raise InputError(
                f"{name} has {size} values but {first} has {k}: every column needs one value "
                "per study"
            )
    if k == 0:
        raise InputError(f"no studies: {first} is empty")
    return k


def fail_where(
    name: str, values: FloatArray, bad: BoolArray, slab: tuple[str, ...], allowed: str
) -> None:
    """Raise an InputError for the first study flagged in ``bad`` (NaN never counts as bad)."""
    idx = np.flatnonzero(bad)
    if idx.size == 0:
        return
    i = int(idx[0])
    more = f" ({idx.size} studies affected)" if idx.size > 1 else ""
    raise InputError(f"{name}[{i}] = {_fmt(values[i])} for study {slab[i]!r}: {allowed}{more}")


def present(*arrays: FloatArray) -> BoolArray:
    """Studies for which every given column has a value."""
    mask = np.ones(arrays[0].shape, dtype=bool)
    for arr in arrays:
        mask &= ~np.isnan(arr)
    return mask


def check_choice(name: str, value: Any, allowed: tuple[Any, ...], context: str = "") -> None:
    """``value`` must be one of ``allowed``."""
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise InputError(f"{name}={value!r} is not allowed{context}; choose one of {shown}")
