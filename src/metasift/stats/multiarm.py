"""Multi-arm trials: combining arms, splitting a shared control group, and an audit trail.

A trial with several intervention (or control) arms must enter a pairwise meta-analysis
once. The Cochrane Handbook (v6.x, section 6.5.2.10 and Table 6.5.a; section 23.3.4)
recommends combining the arms into one group, or else splitting the shared group among
the comparisons. Both are here, for means and SDs and for event counts, and
:func:`arms_to_comparisons` applies them to a long table of arms and records what it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from metasift.errors import InputError
from metasift.stats._kernels import FloatArray

__all__ = [
    "CombinedEvents",
    "CombinedMeans",
    "MultiArmResult",
    "SharedControlSplit",
    "arms_to_comparisons",
    "combine_arms",
    "combine_arms_binary",
    "split_shared_control",
]

HANDBOOK_COMBINE = "Cochrane Handbook 6.5.2.10, Table 6.5.a"
HANDBOOK_SPLIT = "Cochrane Handbook 23.3.4"
ROLES = ("intervention", "control")


class CombinedMeans(NamedTuple):
    """Sample size, mean and SD of arms combined into one group."""

    n: float
    mean: float
    sd: float


class CombinedEvents(NamedTuple):
    """Events and sample size of arms combined into one group."""

    events: float
    n: float


class SharedControlSplit(NamedTuple):
    """A shared control group divided among comparisons: one value per comparison."""

    n: FloatArray
    events: FloatArray | None
    mean: float | None
    sd: float | None


def _vector(name: str, values: ArrayLike) -> FloatArray:
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must contain numbers: {exc}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(f"{name} must be a non-empty 1-D sequence; got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{name}[{i}] is {float(arr[i])!r}: every arm needs a finite value")
    return arr


def _check(name: str, arr: FloatArray, ok: np.ndarray, allowed: str) -> None:
    bad = np.flatnonzero(~ok)
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{name}[{i}] = {float(arr[i])!r}: {allowed}")


def _pair(a: CombinedMeans, b: CombinedMeans) -> CombinedMeans:
    """Table 6.5.a for two groups: the mean and SD of the union of their samples."""
    n = a.n + b.n
    mean = (a.n * a.mean + b.n * b.mean) / n
    # (M1 - M2)^2 equals the Handbook's M1^2 + M2^2 - 2 M1 M2 without its cancellation; the
    # signed means enter, so negative means and change scores are handled as they are.
    ss = (a.n - 1) * a.sd**2 + (b.n - 1) * b.sd**2 + a.n * b.n / n * (a.mean - b.mean) ** 2
    return CombinedMeans(n, mean, float(np.sqrt(ss / (n - 1))))


def combine_arms(n: ArrayLike, mean: ArrayLike, sd: ArrayLike) -> CombinedMeans:
    """Combine arms (sample sizes, means, SDs) into one group.

    Parameters
    ----------
    n, mean, sd : array_like of shape (a,)
        Sample size (> 0), mean and standard deviation (>= 0) of each arm. Means may be
        negative (change scores); they are used with their sign.

    Returns
    -------
    CombinedMeans
        ``(n, mean, sd)`` of the combined group. One arm is returned unchanged.

    Raises
    ------
    metasift.errors.InputError
        For a missing or non-finite value, n <= 0, sd < 0, or lengths that differ.

    Notes
    -----
    Cochrane Handbook (v6.x) section 6.5.2.10, Table 6.5.a: for two groups,
    :math:`N = N_1 + N_2`, :math:`M = (N_1 M_1 + N_2 M_2) / N` and

    .. math:: SD = \\sqrt{\\frac{(N_1-1)SD_1^2 + (N_2-1)SD_2^2
              + \\frac{N_1 N_2}{N_1+N_2}(M_1^2 + M_2^2 - 2 M_1 M_2)}{N_1 + N_2 - 1}},

    applied repeatedly for more arms, as the Handbook says. The result is the mean and
    sample SD of all participants pooled, so the order of the arms does not matter.

    Examples
    --------
    Two arms of a trial reporting change scores (negative = improvement):

    >>> combine_arms(n=[20, 30], mean=[-4.0, -1.0], sd=[3.0, 2.5])
    CombinedMeans(n=50.0, mean=-2.2, sd=3.065)
    """
    arrays = [_vector(name, x) for name, x in (("n", n), ("mean", mean), ("sd", sd))]
    if len({a.size for a in arrays}) != 1:
        raise InputError(
            f"n, mean and sd must have one value per arm; got sizes {[a.size for a in arrays]}"
        )
    n_arr, _, sd_arr = arrays
    _check("n", n_arr, n_arr > 0, "sample sizes must be > 0")
    _check("sd", sd_arr, sd_arr >= 0, "standard deviations must be >= 0")
    if n_arr.sum() <= 1 and n_arr.size > 1:
        raise InputError(f"the arms have {n_arr.sum()!r} participants in all: need more than 1")
    arms = [CombinedMeans(float(a), float(b), float(c)) for a, b, c in zip(*arrays, strict=True)]
    return reduce(_pair, arms)


def combine_arms_binary(events: ArrayLike, n: ArrayLike) -> CombinedEvents:
    """Combine arms with a dichotomous outcome: events and sample sizes are summed.

    Notes
    -----
    Cochrane Handbook (v6.x) section 6.5.2.10 (Table 6.5.a, dichotomous data): the
    combined group has :math:`\\sum e_j` events among :math:`\\sum n_j` participants.

    Examples
    --------
    >>> combine_arms_binary(events=[12, 9], n=[50, 48])
    CombinedEvents(events=21.0, n=98.0)
    """
    e_arr, n_arr = _vector("events", events), _vector("n", n)
    if e_arr.size != n_arr.size:
        raise InputError(f"events has {e_arr.size} arms but n has {n_arr.size}")
    _check("n", n_arr, n_arr > 0, "sample sizes must be > 0")
    _check("events", e_arr, (e_arr >= 0) & (e_arr <= n_arr), "events must be in 0..n")
    return CombinedEvents(float(e_arr.sum()), float(n_arr.sum()))


def _integer_split(total: float, parts: int) -> FloatArray:
    """``total`` as ``parts`` integers that differ by at most 1, larger ones first."""
    base, rest = divmod(round(total), parts)
    return np.array([base + (1 if i < rest else 0) for i in range(parts)], dtype=np.float64)


def split_shared_control(
    n: float,
    comparisons: int,
    *,
    events: float | None = None,
    mean: float | None = None,
    sd: float | None = None,
    integer: bool = False,
) -> SharedControlSplit:
    """Divide a shared control group among ``comparisons`` pairwise comparisons.

    The sample size (and the number of events) is divided equally; the mean and SD stay
    as they are. ``integer=True`` gives whole numbers differing by at most one (the
    larger ones to the first comparisons), as software that needs counts requires.

    Notes
    -----
    Cochrane Handbook (v6.x) section 23.3.4: splitting the shared group into two or more
    groups with smaller sample size avoids counting its participants more than once. It
    is the alternative to combining the intervention arms (:func:`combine_arms`).

    Examples
    --------
    >>> split_shared_control(61, 2, events=15, integer=True)
    SharedControlSplit(n=array([31., 30.]), events=array([8., 7.]), mean=None, sd=None)
    """
    if int(comparisons) != comparisons or comparisons < 1:
        raise InputError(f"comparisons={comparisons!r} must be a whole number >= 1")
    parts = int(comparisons)
    if not (np.isfinite(n) and n > 0):
        raise InputError(f"n={n!r}: the shared control group's size must be > 0")
    if events is not None and not (np.isfinite(events) and 0 <= events <= n):
        raise InputError(f"events={events!r} must be in 0..n (n = {n!r})")
    if integer and (n != round(n) or (events is not None and events != round(events))):
        raise InputError("integer=True needs whole-number n and events")
    if integer:
        n_out = _integer_split(n, parts)
        e_out = None if events is None else _integer_split(events, parts)
    else:
        n_out = np.full(parts, n / parts)
        e_out = None if events is None else np.full(parts, events / parts)
    return SharedControlSplit(n_out, e_out, mean, sd)


@dataclass(frozen=True)
class MultiArmResult:
    """One row per pairwise comparison and the audit trail of how arms were handled.

    Attributes
    ----------
    comparisons : DataFrame
        study, comparison, and n1i, m1i, sd1i, n2i, m2i, sd2i (continuous) or ai, bi, n1i,
        ci, di, n2i (binary), group 1 being the intervention: ready for
        :func:`metasift.effect_sizes`.
    audit : DataFrame
        One row per study and group: which arms, what was done (with the Handbook
        section), the input values and the result.
    how : {"combine", "split"}
        The method used for multi-arm studies.
    outcome : {"continuous", "binary"}
        The kind of outcome.
    """

    comparisons: pd.DataFrame
    audit: pd.DataFrame
    how: str
    outcome: str

    def to_frame(self) -> pd.DataFrame:
        """The comparisons (a copy)."""
        return self.comparisons.copy()

    def summary(self) -> str:
        """One line per action taken on a multi-arm study."""
        acted = self.audit[self.audit["action"] != "as reported"]
        lines = [
            f"{len(self.comparisons)} comparison(s) from "
            f"{self.comparisons['study'].nunique()} study/studies ({self.outcome}, "
            f"multi-arm studies: {self.how})"
        ]
        for row in acted.itertuples(index=False):
            lines.append(f"{row.study} [{row.group}] {row.arms}: {row.action} -> {row.result}")
        return "\n".join(lines)


_VALUE_COLUMNS = {"continuous": ("n", "mean", "sd"), "binary": ("n", "events")}


def _outcome_kind(columns: Sequence[str], outcome: str | None) -> str:
    if outcome is not None:
        if outcome not in _VALUE_COLUMNS:
            raise InputError(f"outcome={outcome!r} is not known; allowed: continuous, binary")
        return outcome
    has_means = "mean" in columns and "sd" in columns
    if has_means == ("events" in columns):
        raise InputError(
            "arms must have either mean and sd columns (continuous) or an events column "
            "(binary); give outcome='continuous' or 'binary' when both are present"
        )
    return "continuous" if has_means else "binary"


def _check_values(frame: pd.DataFrame, outcome: str) -> None:
    where = [f"study {s!r} arm {a!r}" for s, a in zip(frame["study"], frame["arm"], strict=True)]
    for col in _VALUE_COLUMNS[outcome]:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            raise InputError(
                f"column {col!r} is {frame[col].iloc[i]!r} for {where[i]}: every arm needs a number"
            )
        frame[col] = values
    rules = [("n", frame["n"] > 0, "sample sizes must be > 0")]
    if outcome == "continuous":
        rules.append(("sd", frame["sd"] >= 0, "standard deviations must be >= 0"))
    else:
        ok = (frame["events"] >= 0) & (frame["events"] <= frame["n"])
        rules.append(("events", ok, "events must be in 0..n"))
    for col, ok_series, allowed in rules:
        bad = np.flatnonzero(~ok_series.to_numpy())
        if bad.size:
            i = int(bad[0])
            raise InputError(f"{col} = {float(frame[col].iloc[i])!r} for {where[i]}: {allowed}")


def _check_arms(arms: pd.DataFrame, outcome: str | None) -> tuple[pd.DataFrame, str]:
    if not isinstance(arms, pd.DataFrame):
        raise InputError(f"arms must be a pandas DataFrame; got {type(arms).__name__}")
    kind = _outcome_kind(list(arms.columns), outcome)
    needed = ["study", "arm", "role", *_VALUE_COLUMNS[kind]]
    missing = [c for c in needed if c not in arms.columns]
    if missing:
        raise InputError(f"arms lacks the column(s) {missing}; needs {needed}")
    frame = arms[needed].reset_index(drop=True).copy()
    for col in ("study", "arm", "role"):
        if frame[col].isna().any():
            i = int(np.flatnonzero(frame[col].isna().to_numpy())[0])
            raise InputError(f"column {col!r} is missing in row {i} of arms")
    frame["role"] = frame["role"].astype(str).str.strip().str.lower()
    bad_role = ~frame["role"].isin(ROLES)
    if bad_role.any():
        i = int(np.flatnonzero(bad_role.to_numpy())[0])
        raise InputError(
            f"role {arms['role'].iloc[i]!r} for study {frame['study'].iloc[i]!r} "
            f"arm {frame['arm'].iloc[i]!r}: allowed roles are {ROLES}"
        )
    dup = frame.duplicated(["study", "arm"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"study {frame['study'].iloc[i]!r} lists arm {frame['arm'].iloc[i]!r} twice"
        )
    _check_values(frame, kind)
    for study, block in frame.groupby("study", sort=False):
        for role in ROLES:
            if not (block["role"] == role).any():
                raise InputError(f"study {study!r} has no {role} arm")
    return frame, kind


def _fmt_arm(row: Any, outcome: str) -> str:
    if outcome == "continuous":
        return f"{row.arm}: n={row.n:g}, mean={row.mean:g}, sd={row.sd:g}"
    return f"{row.arm}: events={row.events:g}, n={row.n:g}"


def _combine_block(block: pd.DataFrame, outcome: str) -> tuple[dict[str, float], dict[str, Any]]:
    """The arms of one role combined, and the audit row saying how."""
    names = " + ".join(str(a) for a in block["arm"])
    several = len(block) > 1
    if outcome == "continuous":
        res = combine_arms(block["n"], block["mean"], block["sd"])
        values = {"n": res.n, "mean": res.mean, "sd": res.sd}
        result = f"n={res.n:g}, mean={res.mean:.6g}, sd={res.sd:.6g}"
        action = "arms combined (mean and SD of the pooled sample)"
    else:
        ev = combine_arms_binary(block["events"], block["n"])
        values = {"events": ev.events, "n": ev.n}
        result = f"events={ev.events:g}, n={ev.n:g}"
        action = "arms combined (events and sample sizes summed)"
    audit = {
        "group": str(block["role"].iloc[0]),
        "arms": names,
        "n_arms": len(block),
        "action": action if several else "as reported",
        "method": HANDBOOK_COMBINE if several else "",
        "inputs": "; ".join(_fmt_arm(r, outcome) for r in block.itertuples(index=False)),
        "result": result,
    }
    return values, audit


def _comparison_row(
    study: Any, label: str, treat: dict[str, float], ctrl: dict[str, float], outcome: str
) -> dict[str, Any]:
    if outcome == "continuous":
        return {
            "study": study,
            "comparison": label,
            "n1i": treat["n"],
            "m1i": treat["mean"],
            "sd1i": treat["sd"],
            "n2i": ctrl["n"],
            "m2i": ctrl["mean"],
            "sd2i": ctrl["sd"],
        }
    return {
        "study": study,
        "comparison": label,
        "ai": treat["events"],
        "bi": treat["n"] - treat["events"],
        "n1i": treat["n"],
        "ci": ctrl["events"],
        "di": ctrl["n"] - ctrl["events"],
        "n2i": ctrl["n"],
    }


def _split_study(
    study: Any,
    treat: pd.DataFrame,
    ctrl_values: dict[str, float],
    ctrl_names: str,
    outcome: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One comparison per intervention arm, the control group divided among them."""
    parts = len(treat)
    split = split_shared_control(ctrl_values["n"], parts, events=ctrl_values.get("events"))
    rows, audit = [], []
    for j, arm in enumerate(treat.itertuples(index=False)):
        t_values, t_audit = _combine_block(treat.iloc[[j]], outcome)
        c_values = dict(ctrl_values, n=float(split.n[j]))
        if split.events is not None:
            c_values["events"] = float(split.events[j])
        label = f"{arm.arm} vs {ctrl_names}" + (f" (1/{parts} of control)" if parts > 1 else "")
        rows.append(_comparison_row(study, label, t_values, c_values, outcome))
        audit.append({"study": study, **t_audit})
    if parts > 1:
        shares = ", ".join(f"{x:g}" for x in split.n)
        audit.append(
            {
                "study": study,
                "group": "control",
                "arms": ctrl_names,
                "n_arms": parts,
                "action": f"shared control split among {parts} comparisons",
                "method": HANDBOOK_SPLIT,
                "inputs": f"n={ctrl_values['n']:g}",
                "result": f"n per comparison: {shares}",
            }
        )
    return rows, audit


def arms_to_comparisons(
    arms: pd.DataFrame, *, how: str = "combine", outcome: str | None = None
) -> MultiArmResult:
    """One pairwise comparison per study from a long table of arms, with an audit trail.

    Parameters
    ----------
    arms : DataFrame
        One row per arm with columns ``study``, ``arm``, ``role`` ("intervention" or
        "control"), ``n`` and either ``mean`` and ``sd`` or ``events``.
    how : {"combine", "split"}
        "combine" (the Handbook's recommendation): all intervention arms of a study become
        one group, all control arms another. "split": control arms are combined and then
        divided among the intervention arms, one comparison per intervention arm.
    outcome : {"continuous", "binary"}, optional
        Needed only when the table has both mean/sd and events columns.

    Returns
    -------
    MultiArmResult

    Raises
    ------
    metasift.errors.InputError
        For a missing column or value, an unknown role, a duplicated arm, or a study
        without an intervention or a control arm; the message names the study and arm.

    Notes
    -----
    Combining uses :func:`combine_arms` (Cochrane Handbook 6.5.2.10, Table 6.5.a) or
    :func:`combine_arms_binary`; splitting uses :func:`split_shared_control` (Handbook
    23.3.4) with fractional sample sizes.

    Examples
    --------
    >>> import pandas as pd
    >>> arms = pd.DataFrame({
    ...     "study": ["Lee 2019"] * 3 + ["Ode 2020"] * 2,
    ...     "arm": ["peer", "peer+app", "usual care", "peer", "waitlist"],
    ...     "role": ["intervention", "intervention", "control", "intervention", "control"],
    ...     "n": [20, 30, 25, 40, 41],
    ...     "mean": [-4.0, -1.0, -0.5, 10.2, 11.0],
    ...     "sd": [3.0, 2.5, 2.8, 4.0, 4.1],
    ... })
    >>> res = arms_to_comparisons(arms)
    >>> res.comparisons[["study", "comparison", "n1i", "m1i", "n2i"]]
          study             comparison  n1i  m1i   n2i
    0  Lee 2019  peer + peer+app vs usual care  50.0 -2.2  25.0
    1  Ode 2020         peer vs waitlist  40.0 10.2  41.0
    """
    if how not in ("combine", "split"):
        raise InputError(f"how={how!r} is not known; allowed: combine, split")
    frame, kind = _check_arms(arms, outcome)
    rows: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    for study, block in frame.groupby("study", sort=False):
        treat = block[block["role"] == "intervention"]
        ctrl = block[block["role"] == "control"]
        c_values, c_audit = _combine_block(ctrl, kind)
        audit.append({"study": study, **c_audit})
        if how == "split":
            new_rows, new_audit = _split_study(study, treat, c_values, c_audit["arms"], kind)
            rows += new_rows
            audit += new_audit
            continue
        t_values, t_audit = _combine_block(treat, kind)
        audit.append({"study": study, **t_audit})
        label = f"{t_audit['arms']} vs {c_audit['arms']}"
        rows.append(_comparison_row(study, label, t_values, c_values, kind))
    return MultiArmResult(pd.DataFrame(rows), pd.DataFrame(audit), how, kind)
