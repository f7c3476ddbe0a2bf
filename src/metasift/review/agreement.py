"""Agreement between reviewers on nominal decisions: percent agreement, Cohen's kappa per
pair, Fleiss' kappa and Krippendorff's alpha, with standard errors and confidence intervals.

Ratings are a table with one row per record (unit) and one column per reviewer; a missing
rating is ``None``, NaN or an empty string.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from metasift.errors import InputError

__all__ = [
    "AgreementResult",
    "Coefficient",
    "PairAgreement",
    "agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "percent_agreement",
]


@dataclass(frozen=True)
class Coefficient:
    """One agreement statistic with its precision.

    Attributes
    ----------
    name : str
        ``"percent_agreement"``, ``"cohen_kappa"``, ``"fleiss_kappa"`` or
        ``"krippendorff_alpha"``.
    estimate, se, ci_lb, ci_ub : float
        Estimate, standard error and confidence limits (NaN when undefined; ``note`` says
        why). Percent agreement has a Wilson interval and no ``se``.
    n : int
        Records used.
    pa, pe : float
        Observed and chance agreement (NaN for percent agreement's ``pe``).
    zval, pval : float
        Test of no agreement beyond chance where a standard test exists (Cohen's kappa:
        Fleiss, Cohen & Everitt 1969; Fleiss' kappa without missing ratings: Fleiss, Nee &
        Landis 1979), else NaN.
    level : float
        Confidence level.
    note : str
        Why a value is NaN, or "".
    """

    name: str
    estimate: float
    se: float
    ci_lb: float
    ci_ub: float
    n: int
    pa: float = math.nan
    pe: float = math.nan
    zval: float = math.nan
    pval: float = math.nan
    level: float = 0.95
    note: str = ""

    def __post_init__(self) -> None:
        # NumPy scalars would leak into reprs and JSON; the fields are plain floats.
        for name in ("estimate", "se", "ci_lb", "ci_ub", "pa", "pe", "zval", "pval", "level"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "n", int(self.n))

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict."""
        return asdict(self)


def _undefined(name: str, n: int, note: str, level: float, pa: float = math.nan) -> Coefficient:
    nan = math.nan
    return Coefficient(name, nan, nan, nan, nan, n, pa, nan, nan, nan, level, note)


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise InputError(f"level = {level!r}: the confidence level must be between 0 and 1")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _counts(ratings: Any) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Units x categories counts of a ratings table, and the categories (sorted)."""
    table = np.asarray(ratings, dtype=object)
    if table.ndim != 2:
        raise InputError(
            f"ratings must be a table (records x reviewers), not an array of shape {table.shape}"
        )
    present = [[v for v in row if not _missing(v)] for row in table]
    categories = tuple(sorted({v for row in present for v in row}, key=str))
    index = {c: k for k, c in enumerate(categories)}
    counts = np.zeros((len(present), len(categories)))
    for i, row in enumerate(present):
        for value in row:
            counts[i, index[value]] += 1
    return counts, categories


def _t_interval(estimate: float, se: float, df: int, level: float) -> tuple[float, float]:
    q = stats.t.ppf(0.5 + level / 2, df)
    return estimate - q * se, min(1.0, estimate + q * se)


def percent_agreement(ratings: Any, level: float = 0.95) -> Coefficient:
    """Share of records on which every reviewer gave the same decision, with a Wilson CI.

    Records rated by fewer than two reviewers are left out.

    Notes
    -----
    With :math:`x` unanimous records out of :math:`n`, :math:`\\hat p = x/n` and the Wilson
    (1927) interval :math:`(\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2})
    / (1 + z^2/n)`.

    Examples
    --------
    >>> p = percent_agreement([["in", "in"], ["in", "out"], ["out", "out"], ["in", None]])
    >>> p.n, round(p.estimate, 4), round(p.ci_lb, 4), round(p.ci_ub, 4)
    (3, 0.6667, 0.2077, 0.9385)
    """
    _check_level(level)
    counts, _ = _counts(ratings)
    rated = counts.sum(axis=1)
    used = counts[rated >= 2]
    n = len(used)
    if n == 0:
        return _undefined("percent_agreement", 0, "no record has two ratings", level)
    x = int(np.sum(used.max(axis=1) == used.sum(axis=1)))
    p, z = x / n, stats.norm.ppf(0.5 + level / 2)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Coefficient(
        "percent_agreement", p, math.nan, centre - half, centre + half, n, p, level=level
    )


def cohen_kappa(rater_1: Sequence[Any], rater_2: Sequence[Any], level: float = 0.95) -> Coefficient:
    """Cohen's kappa of two reviewers, with its large-sample standard error and CI.

    Records missing either rating are left out.

    Notes
    -----
    With :math:`p_{ij}` the share of records rated *i* by the first and *j* by the second
    reviewer, :math:`p_o=\\sum_i p_{ii}`, :math:`p_e=\\sum_i p_{i.}p_{.i}` and
    :math:`\\kappa=(p_o-p_e)/(1-p_e)` (Cohen 1960). The variance is that of Fleiss, Cohen &
    Everitt (1969), also in Fleiss, Levin & Paik (2003, eq. 18.13):

    .. math:: \\widehat{var}(\\kappa) = \\frac{\\sum_i p_{ii}[1-(p_{i.}+p_{.i})(1-\\kappa)]^2
              + (1-\\kappa)^2\\sum_{i\\ne j}p_{ij}(p_{.i}+p_{j.})^2
              - [\\kappa-p_e(1-\\kappa)]^2}{n(1-p_e)^2}

    and the CI is :math:`\\kappa \\pm z\\,se`. The test of :math:`\\kappa=0` uses the null
    variance :math:`[p_e+p_e^2-\\sum_i p_{i.}p_{.i}(p_{i.}+p_{.i})]/[n(1-p_e)^2]`.

    Examples
    --------
    The 2 x 2 table (31, 12; 4, 58) of statpsych's ``ci.kappa`` (Bonett), after Fleiss &
    Paik (2003):

    >>> a = [0] * 43 + [1] * 62
    >>> b = [0] * 31 + [1] * 12 + [0] * 4 + [1] * 58
    >>> k = cohen_kappa(a, b)
    >>> round(k.estimate, 7), round(k.se, 8), round(k.ci_lb, 7), round(k.ci_ub, 7)
    (0.6756757, 0.07344761, 0.531721, 0.8196303)
    """
    _check_level(level)
    if len(rater_1) != len(rater_2):
        raise InputError(
            f"rater_1 has {len(rater_1)} ratings and rater_2 {len(rater_2)}: give one per record"
        )
    pairs = [
        (a, b) for a, b in zip(rater_1, rater_2, strict=True) if not _missing(a) and not _missing(b)
    ]
    n = len(pairs)
    if n < 2:
        return _undefined("cohen_kappa", n, "fewer than two records rated by both", level)
    categories = sorted({v for pair in pairs for v in pair}, key=str)
    index = {c: k for k, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)))
    for a, b in pairs:
        table[index[a], index[b]] += 1
    return _cohen_from_table(table / n, n, level)


def _cohen_from_table(p: np.ndarray, n: int, level: float) -> Coefficient:
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po, pe = float(np.trace(p)), float(rows @ cols)
    if pe >= 1 - 1e-12:
        return _undefined(
            "cohen_kappa",
            n,
            "both reviewers gave one and the same decision to every record",
            level,
            po,
        )
    kappa = (po - pe) / (1 - pe)
    diag = np.diag(p) * (1 - (rows + cols) * (1 - kappa)) ** 2
    off = p * (cols[:, None] + rows[None, :]) ** 2
    np.fill_diagonal(off, 0.0)
    var = (diag.sum() + (1 - kappa) ** 2 * off.sum() - (kappa - pe * (1 - kappa)) ** 2) / (
        n * (1 - pe) ** 2
    )
    var0 = (pe + pe**2 - float(np.sum(rows * cols * (rows + cols)))) / (n * (1 - pe) ** 2)
    se, se0 = math.sqrt(max(var, 0.0)), math.sqrt(max(var0, 0.0))
    z = stats.norm.ppf(0.5 + level / 2)
    zval = kappa / se0 if se0 > 0 else math.nan
    pval = float(2 * stats.norm.sf(abs(zval))) if se0 > 0 else math.nan
    return Coefficient(
        "cohen_kappa", kappa, se, kappa - z * se, kappa + z * se, n, po, pe, zval, pval, level
    )


def fleiss_kappa(ratings: Any, level: float = 0.95) -> Coefficient:
    """Fleiss' kappa of any number of reviewers, missing ratings allowed, with Gwet's SE.

    Notes
    -----
    With :math:`r_{ik}` reviewers putting record *i* in category *k*, :math:`r_i=\\sum_k
    r_{ik}`, *n* records and :math:`n_2` of them with :math:`r_i\\ge 2` (Fleiss 1971; Gwet
    2014, ch. 5, for missing ratings):

    .. math:: p_a=\\frac1{n_2}\\sum_{r_i\\ge2}\\sum_k\\frac{r_{ik}(r_{ik}-1)}{r_i(r_i-1)},\\quad
              \\pi_k=\\frac1n\\sum_i\\frac{r_{ik}}{r_i},\\quad p_e=\\sum_k\\pi_k^2,\\quad
              \\kappa=\\frac{p_a-p_e}{1-p_e}.

    The variance is Gwet's linearisation (Gwet 2008, 2014): with :math:`\\kappa_i=
    \\frac{n}{n_2}\\frac{p_{a|i}-p_e[r_i\\ge2]}{1-p_e}`, :math:`p_{e|i}=\\sum_k\\pi_k
    r_{ik}/r_i` and :math:`\\kappa_i^*=\\kappa_i-2(1-\\kappa)\\frac{p_{e|i}-p_e}{1-p_e}`,
    :math:`var=\\sum_i(\\kappa_i^*-\\kappa)^2/[n(n-1)]`; the CI is :math:`\\kappa\\pm
    t_{n-1}se` (upper limit at most 1), as in Gwet's irrCAC. When every record has the same
    number of ratings, ``zval`` and ``pval`` test :math:`\\kappa=0` with the null variance
    of Fleiss, Nee & Landis (1979).

    Examples
    --------
    Fleiss (1971, Table 1): 30 patients, 6 psychiatrists, 5 diagnoses; kappa = .430.

    >>> from metasift.review.agreement import _FLEISS_1971
    >>> k = fleiss_kappa(_FLEISS_1971)
    >>> round(k.estimate, 7), round(k.zval, 5)
    (0.4302445, 17.65183)
    """
    _check_level(level)
    counts, _ = _counts(ratings)
    counts = counts[counts.sum(axis=1) > 0]
    n = len(counts)
    r = counts.sum(axis=1)
    two = r >= 2
    n2 = int(two.sum())
    if n2 < 2 or counts.shape[1] < 1:
        return _undefined("fleiss_kappa", n, "fewer than two records with two ratings", level)
    pa_i = np.where(two, (counts * (counts - 1)).sum(axis=1) / np.maximum(r * (r - 1), 1), 0.0)
    pa = float(pa_i[two].mean())
    pi = (counts / r[:, None]).mean(axis=0)
    pe = float(pi @ pi)
    if pe >= 1 - 1e-12:
        return _undefined("fleiss_kappa", n, "every rating is the same decision", level, pa)
    kappa = (pa - pe) / (1 - pe)
    kappa_i = (n / n2) * (pa_i - pe * two) / (1 - pe)
    pe_i = (counts / r[:, None]) @ pi
    star = kappa_i - 2 * (1 - kappa) * (pe_i - pe) / (1 - pe)
    se = math.sqrt(float(np.sum((star - kappa) ** 2)) / (n * (n - 1)))
    lb, ub = _t_interval(kappa, se, n - 1, level)
    zval = pval = math.nan
    if np.all(r == r[0]) and counts.shape[1] > 1:
        m, q = r[0], 1 - pi
        spq = float(pi @ q)
        var0 = 2 / (spq**2 * n * m * (m - 1)) * (spq**2 - float(np.sum(pi * q * (q - pi))))
        zval = kappa / math.sqrt(var0)
        pval = float(2 * stats.norm.sf(abs(zval)))
    return Coefficient("fleiss_kappa", kappa, se, lb, ub, n, pa, pe, zval, pval, level)


def krippendorff_alpha(ratings: Any, level: float = 0.95) -> Coefficient:
    """Krippendorff's alpha for nominal data, missing ratings allowed, with Gwet's SE.

    Notes
    -----
    Krippendorff (2011): with the coincidence matrix :math:`o_{ck}=\\sum_u r_{uc}(r_{uk}-
    [c=k])/(r_u-1)` over records with :math:`r_u\\ge2` ratings, :math:`n_c=\\sum_k o_{ck}`
    and :math:`n_{..}=\\sum_c n_c`, :math:`\\alpha=1-(n_{..}-1)\\sum_{c\\ne k}o_{ck}/
    \\sum_{c\\ne k}n_c n_k`. The variance is Gwet's (2014, ch. 5) linearisation of the same
    coefficient written as :math:`(p_a-p_e)/(1-p_e)`; the CI is :math:`\\alpha\\pm
    t_{n-1}se` over the *n* records with two or more ratings (upper limit at most 1).

    Examples
    --------
    Krippendorff (2011), section C: 4 observers, 12 units, missing values; alpha = 0.743.

    >>> from metasift.review.agreement import _KRIPPENDORFF_2011
    >>> round(krippendorff_alpha(_KRIPPENDORFF_2011).estimate, 3)
    0.743
    """
    _check_level(level)
    counts, _ = _counts(ratings)
    counts = counts[counts.sum(axis=1) >= 2]
    n = len(counts)
    if n < 2:
        return _undefined("krippendorff_alpha", n, "fewer than two records with two ratings", level)
    r = counts.sum(axis=1)
    total = r.sum()
    o = (counts.T @ (counts / (r - 1)[:, None])) - np.diag((counts / (r - 1)[:, None]).sum(0))
    n_c = o.sum(axis=1)
    expected = np.outer(n_c, n_c).sum() - (n_c**2).sum()
    if expected <= 0:
        return _undefined("krippendorff_alpha", n, "every rating is the same decision", level)
    observed = o.sum() - np.trace(o)
    alpha = 1 - (total - 1) * observed / expected
    se, pa, pe = _alpha_se(counts, r, n)
    lb, ub = _t_interval(alpha, se, n - 1, level)
    return Coefficient("krippendorff_alpha", alpha, se, lb, ub, n, pa, pe, level=level)


def _alpha_se(counts: np.ndarray, r: np.ndarray, n: int) -> tuple[float, float, float]:
    """Gwet's standard error of alpha, with its (p_a, p_e) form."""
    r_bar = r.mean()
    eps = 1 / r.sum()
    pa_i = (counts * (counts - 1)).sum(axis=1) / (r_bar * (r - 1))
    pa_prime = float(pa_i.mean())
    pa = (1 - eps) * pa_prime + eps
    pi = counts.mean(axis=0) / r_bar
    pe = float(pi @ pi)
    alpha_prime = (pa_prime - pe) / (1 - pe)
    pa_star = pa_i - pa_prime * (r - r_bar) / r_bar
    pe_i = counts @ pi / r_bar - pe * (r - r_bar) / r_bar
    star = (pa_star - pe) / (1 - pe) - 2 * (1 - alpha_prime) * (pe_i - pe) / (1 - pe)
    se = math.sqrt(float(np.sum((star - alpha_prime) ** 2)) / (n * (n - 1)))
    return se, pa, pe


@dataclass(frozen=True)
class PairAgreement:
    """Agreement of two reviewers on the records both decided."""

    reviewer_1: str
    reviewer_2: str
    percent: Coefficient
    kappa: Coefficient


@dataclass(frozen=True)
class AgreementResult:
    """Agreement at one stage, before any arbiter decision.

    Attributes
    ----------
    stage : str
        Screening stage.
    categories : tuple of str
        Decisions compared.
    reviewers : tuple of str
        Reviewers with ratings.
    percent : Coefficient
        Share of records on which all their reviewers agreed (Wilson CI).
    pairs : tuple of PairAgreement
        Percent agreement and Cohen's kappa of each pair of reviewers.
    fleiss, krippendorff : Coefficient
        Fleiss' kappa and Krippendorff's alpha over all reviewers.
    """

    stage: str
    categories: tuple[str, ...]
    reviewers: tuple[str, ...]
    percent: Coefficient
    pairs: tuple[PairAgreement, ...] = field(default=())
    fleiss: Coefficient | None = None
    krippendorff: Coefficient | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic: statistic, reviewer_1, reviewer_2, n, estimate, se,
        ci_lb, ci_ub, zval, pval, note."""
        rows = [(self.percent, "", "")]
        for pair in self.pairs:
            rows += [
                (pair.percent, pair.reviewer_1, pair.reviewer_2),
                (pair.kappa, pair.reviewer_1, pair.reviewer_2),
            ]
        rows += [(c, "", "") for c in (self.fleiss, self.krippendorff) if c is not None]
        return pd.DataFrame(
            [
                (c.name, a, b, c.n, c.estimate, c.se, c.ci_lb, c.ci_ub, c.zval, c.pval, c.note)
                for c, a, b in rows
            ],
            columns=[
                "statistic",
                "reviewer_1",
                "reviewer_2",
                "n",
                "estimate",
                "se",
                "ci_lb",
                "ci_ub",
                "zval",
                "pval",
                "note",
            ],
        ).assign(stage=self.stage)

    def summary(self) -> str:
        """A text table of the statistics, rounded for reading."""
        frame = self.to_frame()
        lines = [
            f"Agreement at {self.stage} ({', '.join(self.reviewers)}; "
            f"decisions {', '.join(self.categories)})"
        ]
        for row in frame.itertuples():
            who = f" {row.reviewer_1}-{row.reviewer_2}" if row.reviewer_1 else ""
            ci = f"[{row.ci_lb:.3f}, {row.ci_ub:.3f}]" if row.ci_lb == row.ci_lb else ""
            note = f"  ({row.note})" if row.note else ""
            lines.append(f"  {row.statistic}{who}: {row.estimate:.3f} {ci} n={row.n}{note}")
        return "\n".join(lines)


def agreement(ratings: pd.DataFrame, stage: str = "", level: float = 0.95) -> AgreementResult:
    """Every agreement statistic of a ratings table (records x reviewers).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"ann": ["include", "exclude", "exclude", "include"],
    ...                       "ben": ["include", "exclude", "include", "include"]})
    >>> result = agreement(table, "title_abstract")
    >>> result.percent.estimate, round(result.pairs[0].kappa.estimate, 3)
    (0.75, 0.5)
    """
    if not isinstance(ratings, pd.DataFrame):
        raise InputError("ratings must be a DataFrame with one column per reviewer")
    _, categories = _counts(ratings.to_numpy(dtype=object))
    reviewers = tuple(str(c) for c in ratings.columns)
    pairs = tuple(
        PairAgreement(
            a,
            b,
            percent_agreement(ratings[[a, b]].to_numpy(dtype=object), level),
            cohen_kappa(list(ratings[a]), list(ratings[b]), level),
        )
        for a, b in itertools.combinations(reviewers, 2)
    )
    values = ratings.to_numpy(dtype=object)
    return AgreementResult(
        stage,
        tuple(str(c) for c in categories),
        reviewers,
        percent_agreement(values, level),
        pairs,
        fleiss_kappa(values, level),
        krippendorff_alpha(values, level),
    )


# Fleiss (1971), Table 1 (as in R package irr's `diagnoses`): rows are patients, columns
# psychiatrists, values diagnoses 1-5.
_FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4],
    [2, 2, 2, 5, 5, 5],
    [2, 3, 3, 3, 3, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3],
    [3, 3, 3, 3, 5, 5],
    [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4],
    [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4],
    [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3],
    [1, 4, 4, 4, 4, 4],
    [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5],
    [1, 1, 1, 1, 1, 2],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 4, 4, 4, 4, 4],
    [2, 2, 4, 5, 5, 5],
    [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4],
    [1, 1, 1, 1, 5, 5],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3],
    [5, 5, 5, 5, 5, 5],
]
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: units are
# rows, observers A-D columns, None is a missing value.
_KRIPPENDORFF_2011 = [
    [1, 1, None, 1],
    [2, 2, 3, 2],
    [3, 3, 3, 3],
    [3, 3, 3, 3],
    [2, 2, 2, 2],
    [1, 2, 3, 4],
    [4, 4, 4, 4],
    [1, 1, 2, 1],
    [2, 2, 2, 2],
    [None, 5, 5, 5],
    [None, None, 1, 1],
    [None, None, 3, None],
]
