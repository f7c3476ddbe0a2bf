"""The design matrix of a meta-regression: moderators in, named columns out.

Numeric moderators enter as they are. Categorical ones (object, string, category and bool
columns) are dummy-coded with the first level as reference, as R's ``model.matrix`` does:
levels in the order of a pandas Categorical, else sorted; term names are the column name
followed by the level (``allocrandom``, ``flagTRUE``). Without an intercept the first
categorical moderator gets one column per level (the cell-means coding). Columns that are
linear combinations of earlier ones are dropped with a warning, as metafor does.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metasift.errors import DataWarning, InputError
from metasift.stats._kernels import FloatArray

#: lm()'s tolerance for a column that is a linear combination of earlier ones.
REDUNDANCY_TOL = 1e-7


@dataclass(frozen=True)
class Term:
    """One moderator: numeric, or categorical with its levels and coding."""

    name: str
    levels: tuple[Any, ...] | None = None  # None for a numeric moderator
    full: bool = False  # one column per level (no reference level)

    def columns(self) -> list[str]:
        if self.levels is None:
            return [self.name]
        kept = self.levels if self.full else self.levels[1:]
        return [f"{self.name}{_level_text(lv)}" for lv in kept]

    def encode(self, values: pd.Series, labels: Sequence[str]) -> FloatArray:
        if self.levels is None:
            return _numeric(self.name, values, labels)[:, None]
        unknown = ~values.isin(list(self.levels)).to_numpy()
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            raise InputError(
                f"mods column {self.name!r} has level {values.iloc[i]!r} for {labels[i]!r}, "
                f"which the model was not fitted with; known levels: {list(self.levels)}"
            )
        kept = self.levels if self.full else self.levels[1:]
        return np.column_stack([(values == lv).to_numpy(dtype=np.float64) for lv in kept])


@dataclass(frozen=True)
class Design:
    """How moderators become the columns of X, kept so that ``predict`` codes new data alike."""

    terms: tuple[Term, ...]
    intercept: bool  # a column of ones added in front
    raw_names: tuple[str, ...]  # names of the generated columns before any were dropped
    keep: tuple[int, ...]  # generated columns kept, in the order of X (intercept first)
    names: tuple[str, ...]  # names of the columns of X, intercept first ("intrcpt")
    input_kind: str  # "frame", "vector" or "matrix"

    @property
    def int_incl(self) -> bool:
        return bool(self.names) and self.names[0] == "intrcpt"

    def matrix(self, frame: pd.DataFrame, labels: Sequence[str]) -> FloatArray:
        """Code ``frame`` (the moderators' columns) as the columns of X."""
        blocks = [t.encode(frame[t.name], labels) for t in self.terms]
        raw = np.column_stack(blocks) if blocks else np.empty((len(frame), 0))
        if self.intercept:
            raw = np.column_stack([np.ones(len(frame)), raw])
        return np.asarray(raw[:, list(self.keep)], dtype=np.float64)


def _level_text(level: Any) -> str:
    if isinstance(level, (bool, np.bool_)):
        return "TRUE" if level else "FALSE"
    return str(level)


def _numeric(name: str, values: pd.Series, labels: Sequence[str]) -> FloatArray:
    try:
        arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InputError(f"mods column {name!r} must be numeric or categorical: {exc}") from None
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"mods column {name!r} is {values.iloc[i]!r} for {labels[i]!r}: every study needs "
            f"a finite moderator value ({bad.size} study/studies affected)"
        )
    return arr


def _is_categorical(values: pd.Series) -> bool:
    return bool(
        isinstance(values.dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(values.dtype)
        or pd.api.types.is_object_dtype(values.dtype)
        or pd.api.types.is_string_dtype(values.dtype)
    )


def factor_levels(
    name: str, values: pd.Series, labels: Sequence[str], what: str = "mods column"
) -> tuple[Any, ...]:
    """Levels of a categorical variable: a Categorical's order, else sorted; no missing."""
    missing = values.isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError(
            f"{what} {name!r} is missing for {labels[i]!r}: every study needs a level "
            f"({int(missing.sum())} study/studies affected)"
        )
    if isinstance(values.dtype, pd.CategoricalDtype):
        seen = set(values.tolist())
        return tuple(c for c in values.cat.categories if c in seen)
    unique = list(dict.fromkeys(values.tolist()))
    try:
        return tuple(sorted(unique))
    except TypeError:
        return tuple(sorted(unique, key=str))


def as_frame(mods: Any, k: int | None) -> tuple[pd.DataFrame, str]:
    """Moderators as a DataFrame with one row per study, and the kind of input."""
    if isinstance(mods, pd.DataFrame):
        frame, kind = mods.reset_index(drop=True), "frame"
    elif isinstance(mods, pd.Series):
        name = "mods" if mods.name is None else str(mods.name)
        frame, kind = pd.DataFrame({name: mods.to_numpy()}), "frame"
    elif isinstance(mods, Mapping):
        frame, kind = pd.DataFrame({str(c): np.asarray(v) for c, v in mods.items()}), "frame"
    else:
        arr = np.asarray(mods)
        if arr.ndim == 1:
            frame, kind = pd.DataFrame({"mods": arr}), "vector"
        elif arr.ndim == 2:
            cols = {f"X{j + 1}": arr[:, j] for j in range(arr.shape[1])}
            frame, kind = pd.DataFrame(cols), "matrix"
        else:
            raise InputError(f"mods must be a DataFrame or a 1-D/2-D array; got shape {arr.shape}")
    if k is not None and len(frame) != k:
        raise InputError(f"mods has {len(frame)} rows for {k} studies")
    frame.columns = [str(c) for c in frame.columns]
    if len(set(frame.columns)) != len(frame.columns):
        raise InputError(f"mods has duplicated column names: {list(frame.columns)}")
    return frame, kind


def _redundant(x: FloatArray) -> list[int]:
    """Columns that are (numerically) linear combinations of earlier columns."""
    dropped: list[int] = []
    basis = np.empty((x.shape[0], 0))
    for j in range(x.shape[1]):
        col = x[:, j]
        norm = float(np.linalg.norm(col))
        resid = col - basis @ (basis.T @ col) if basis.shape[1] else col
        rnorm = float(np.linalg.norm(resid))
        if norm == 0.0 or rnorm <= REDUNDANCY_TOL * norm:
            dropped.append(j)
        else:
            basis = np.column_stack([basis, resid / rnorm])
    return dropped


def _unique(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        out.append(name if n == 0 else f"{name}.{n}")
        seen[name] = n + 1
    return tuple(out)


def build(
    mods: Any, k: int, labels: Sequence[str], *, intercept: bool
) -> tuple[FloatArray, Design]:
    """The design matrix X of shape (k, p) and its :class:`Design`."""
    if mods is None:
        frame, kind = pd.DataFrame(index=range(k)), "none"
    else:
        frame, kind = as_frame(mods, k)
    if frame.shape[1] == 0 and not intercept:
        raise InputError("the model has no terms: give mods or set intercept=True")
    terms, first_factor = [], True
    for name in frame.columns:
        values = frame[name]
        if _is_categorical(values):
            full = first_factor and not intercept
            terms.append(Term(name, factor_levels(name, values, labels), full))
            first_factor = False
        else:
            terms.append(Term(name))
    raw_names = (["intrcpt"] if intercept else []) + [c for t in terms for c in t.columns()]
    draft = Design(
        tuple(terms),
        intercept,
        tuple(raw_names),
        tuple(range(len(raw_names))),
        tuple(raw_names),
        kind,
    )
    raw = draft.matrix(frame, labels)
    dropped = _redundant(raw)
    if dropped:
        names = [raw_names[j] for j in dropped]
        warnings.warn(
            f"redundant moderators dropped from the model (linear combinations of earlier "
            f"columns): {', '.join(names)}",
            DataWarning,
            stacklevel=3,
        )
    keep = [j for j in range(len(raw_names)) if j not in dropped]
    names = [raw_names[j] for j in keep]
    ones = [i for i, j in enumerate(keep) if np.all(np.abs(raw[:, j] - 1.0) < 1e-8)]
    if ones and not intercept:  # a column of ones among the moderators is the intercept
        i = ones[0]
        keep = [keep[i], *keep[:i], *keep[i + 1 :]]
        names = ["intrcpt", *names[:i], *names[i + 1 :]]
    design = Design(tuple(terms), intercept, tuple(raw_names), tuple(keep), _unique(names), kind)
    return design.matrix(frame, labels), design


def new_frame(design: Design, newmods: Any) -> pd.DataFrame:
    """New moderator values as a frame with the columns the model was fitted with."""
    cols = [t.name for t in design.terms]
    if isinstance(newmods, pd.DataFrame | pd.Series | Mapping):
        frame, _ = as_frame(newmods, None)
    else:
        arr = np.asarray(newmods, dtype=np.float64)
        if arr.ndim == 0 or (arr.ndim == 1 and len(cols) > 1):
            arr = arr.reshape(1, -1)  # one new study with a value per moderator
        elif arr.ndim == 1:
            arr = arr[:, None]  # one moderator, one new study per value
        if arr.ndim != 2 or arr.shape[1] != len(cols):
            raise InputError(
                f"newmods must have one column per moderator ({len(cols)}: {cols}); "
                f"got shape {arr.shape}"
            )
        frame = pd.DataFrame(arr, columns=cols)
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise InputError(f"newmods lacks the moderator column(s) {missing}; needs {cols}")
    return frame[cols]
