"""Validation of study-level input at the public boundary of the stats layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from metasift.errors import InputError
from metasift.stats._kernels import FloatArray


def check_known(name: str, value: Any, allowed: Sequence[Any]) -> None:
    """Raise InputError when the option ``name`` is not one of ``allowed``."""
    if value not in allowed:
        raise InputError(f"{name}={value!r} is not known; allowed: {', '.join(allowed)}")


def check_level(level: float) -> None:
    """Raise InputError for a confidence level outside (0, 1)."""
    if not 0.0 < level < 1.0:
        raise InputError(f"level={level!r} must be a fraction between 0 and 1, such as 0.95")


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


def effect_source(
    yi: ArrayLike | Any,
    vi: ArrayLike | None,
    sei: ArrayLike | None,
    slab: Sequence[Any] | ArrayLike | None,
) -> tuple[Any, Any, Any, Any]:
    """``(yi, vi, slab, source)``, read from ``yi`` when it is an EffectSizes-like object.

    An object with ``yi`` and ``vi`` attributes passed as ``yi``, with neither ``vi`` nor
    ``sei`` given, is the ``source``: it supplies the effects and variances, and the labels
    unless ``slab`` is given. Otherwise the arguments come back as they are, with ``source``
    None.
    """
    if hasattr(yi, "yi") and hasattr(yi, "vi") and vi is None and sei is None:
        source = yi
        slab = getattr(source, "slab", None) if slab is None else slab
        return source.yi, source.vi, slab, source
    return yi, vi, slab, None


def effect_arrays(
    yi: ArrayLike | Any,
    vi: ArrayLike | None,
    sei: ArrayLike | None,
    slab: Sequence[Any] | ArrayLike | None,
) -> tuple[FloatArray, FloatArray, tuple[str, ...]]:
    """Validated ``(y, v, labels)`` (:func:`study_arrays`) of arrays or an EffectSizes."""
    yi, vi, slab, _ = effect_source(yi, vi, sei, slab)
    return study_arrays(yi, vi, sei, slab)


def model_options(
    yi: Any,
    vi: ArrayLike | None,
    sei: ArrayLike | None,
    method: str | None,
    test: str | None,
    level: float | None,
) -> tuple[str, str, float]:
    """``(method, test, level)``: those given, else those of a fitted result passed as
    ``yi`` (as metafor's functions on an ``rma`` object inherit its model), else "REML",
    "z" and 0.95."""
    fitted = vi is None and sei is None and hasattr(yi, "method") and hasattr(yi, "test")
    if method is None:
        method = str(yi.method) if fitted else "REML"
    if test is None:
        test = str(yi.test) if fitted else "z"
    if level is None:
        level = float(yi.level) if fitted and hasattr(yi, "level") else 0.95
    return method, test, level
