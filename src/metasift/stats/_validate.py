"""Validation of study-level input at the public boundary of the stats layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from metasift.errors import InputError
from metasift.stats._kernels import FloatArray


def study_labels(slab: Sequence[Any] | ArrayLike | None, k: int) -> tuple[str, ...]:
    """Study labels as strings; ``Study 1 .. Study k`` when none are given."""
    if slab is None:
        return tuple(f"Study {i + 1}" for i in range(k))
    labels = tuple(str(s) for s in np.asarray(slab, dtype=object).ravel())
    if len(labels) != k:
        raise InputError(f"slab has {len(labels)} labels for {k} studies")
    return labels


def _vector(name: str, values: ArrayLike) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must contain numbers: {exc}") from None
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional; got shape {arr.shape}")
    return arr


def study_arrays(
    yi: ArrayLike,
    vi: ArrayLike | None,
    sei: ArrayLike | None,
    slab: Sequence[Any] | ArrayLike | None,
) -> tuple[FloatArray, FloatArray, tuple[str, ...]]:
    """Check effect sizes and sampling variances (or standard errors) of one analysis.

    Returns ``(y, v, labels)``. Raises :class:`InputError` naming the study for a missing
    or non-finite value, a non-positive variance, or a length mismatch.
    """
    if (vi is None) == (sei is None):
        raise InputError("give exactly one of vi (sampling variances) or sei (standard errors)")
    y = _vector("yi", yi)
    if vi is not None:
        v, vname = _vector("vi", vi), "vi"
    else:
        v, vname = _vector("sei", sei) ** 2, "sei"  # type: ignore[arg-type]
    if y.shape != v.shape:
        raise InputError(f"yi has {y.size} values but {vname} has {v.size}")
    if y.size == 0:
        raise InputError("no studies: yi is empty")
    labels = study_labels(slab, y.size)
    for name, arr in (("yi", y), (vname, v)):
        if np.isfinite(arr).all():
            continue
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            i = int(bad[0])
            raise InputError(
                f"{name}[{i}] is {float(arr[i])!r} for study {labels[i]!r}: every study needs "
                f"a finite value ({bad.size} study/studies affected); drop or complete them first"
            )
    if v.min() <= 0:
        i = int(np.flatnonzero(v <= 0)[0])
        shown = vi if vi is not None else sei
        value = float(np.asarray(shown, dtype=np.float64)[i])
        raise InputError(
            f"{vname}[{i}] = {value!r} for study {labels[i]!r}: sampling variances and "
            f"standard errors must be > 0"
        )
    return y, v, labels
