"""Agreement statistics: published worked examples, reference programs, direct computation.

References
----------
- Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychol Bull 76:
  378-382: Table 1 (30 patients, 6 psychiatrists, 5 diagnoses), kappa = .430; R package irr
  ``kappam.fleiss(diagnoses)``: 0.4302445, z = 17.65183.
- Krippendorff K (2011). Computing Krippendorff's alpha-reliability, section C (nominal
  data, 4 observers, 12 units, missing values): alpha = 0.743.
- SAS/STAT PROC FREQ AGREE printout for the 3 x 3 table (0 4 1 / 0 8 0 / 0 1 5): kappa
  0.4842, ASE 0.1380, 95% CI 0.2137-0.7547, ASE under H0 0.1484, Z 3.2626 (as reproduced
  in statsmodels' test suite).
- statpsych ``ci.kappa(.05, 31, 12, 4, 58)`` (Bonett; Fleiss & Paik 2003): Cohen's kappa
  0.6756757, SE 0.07344761, CI 0.5317210-0.8196303.
- irrCAC 1.0 (Gwet) README: ``fleiss.kappa.raw(cac.raw4raters)`` 0.76117, SE 0.15302, CI
  (0.424, 1), pa 0.8181818, pe 0.2387153; ``krippen.alpha.raw(cac.raw4raters)`` 0.74342,
  SE 0.14557, CI (0.419, 1), pa 0.805, pe 0.24; ``fleiss.kappa.dist(distrib.6raters)``
  0.4139265, SE 0.08119291, CI (0.24, 0.588).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss
from statsmodels.stats.proportion import proportion_confint

from metasift.errors import InputError
from metasift.review import (
    agreement,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)
from metasift.review.agreement import _FLEISS_1971, _KRIPPENDORFF_2011

#: Closed-form statistics computed two ways agree to rounding error.
RTOL_CLOSED_FORM = 1e-10
#: A value printed with k decimals agrees to half a unit in the last place.
PRINTED_4 = 0.5e-4
PRINTED_3 = 0.5e-3
#: irrCAC 1.0 linearises alpha around p_a, later versions (and this code) around p_a'
#: (the ratio being linearised); the two SEs differ by O(1/n): 0.14548 vs 0.14557 here.
RTOL_ALPHA_SE_VARIANT = 1e-3
#: The linearised SEs are large-sample approximations of the sampling SE; on 400 records
#: they agree with the jackknife SE to within a few percent.
RTOL_SE_VS_JACKKNIFE = 0.1

# Fleiss' distrib.6raters as distributed with irrCAC: the first 15 subjects of Fleiss (1971)
# as counts of raters per category.
DISTRIB_6RATERS = [
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
]  # fmt: skip


def _from_table(table: list[list[int]]) -> tuple[list[int], list[int]]:
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


def _raw(counts: list[list[int]]) -> list[list[int]]:
    return [[k for k, c in enumerate(row) for _ in range(c)] for row in counts]


def test_fleiss_1971_published_example() -> None:
    k = fleiss_kappa(_FLEISS_1971)
    assert abs(k.estimate - 0.430) < PRINTED_3
    assert k.estimate == pytest.approx(0.4302445, abs=0.5e-7)
    assert k.zval == pytest.approx(17.65183, abs=0.5e-5)
    assert k.n == 30


def test_krippendorff_2011_published_example() -> None:
    alpha = krippendorff_alpha(_KRIPPENDORFF_2011)
    assert abs(alpha.estimate - 0.743) < PRINTED_3
    assert alpha.n == 11  # unit 12 has a single value and is not pairable


def test_cohen_kappa_against_sas_printout() -> None:
    k = cohen_kappa(*_from_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]]))
    printed = {"estimate": 0.4842, "se": 0.1380, "ci_lb": 0.2137, "ci_ub": 0.7547, "zval": 3.2626}
    for name, value in printed.items():
        assert abs(getattr(k, name) - value) < PRINTED_4, name
    assert abs(k.estimate / k.zval - 0.1484) < PRINTED_4  # ASE under H0


def test_cohen_kappa_against_statpsych() -> None:
    k = cohen_kappa(*_from_table([[31, 12], [4, 58]]))
    assert k.estimate == pytest.approx(0.6756757, abs=0.5e-7)
    assert k.se == pytest.approx(0.07344761, abs=0.5e-8)
    assert (k.ci_lb, k.ci_ub) == pytest.approx((0.5317210, 0.8196303), abs=0.5e-7)


def test_fleiss_and_alpha_against_irrcac() -> None:
    k = fleiss_kappa(_KRIPPENDORFF_2011)
    assert (k.estimate, k.se) == pytest.approx((0.76117, 0.15302), abs=0.5e-5)
    assert (k.pa, k.pe) == pytest.approx((0.8181818, 0.2387153), abs=0.5e-7)
    assert abs(k.ci_lb - 0.424) < PRINTED_3 and k.ci_ub == 1.0
    assert math.isnan(k.zval)  # the null-variance test needs equal numbers of ratings
    alpha = krippendorff_alpha(_KRIPPENDORFF_2011)
    assert alpha.estimate == pytest.approx(0.74342, abs=0.5e-5)
    assert (alpha.pa, alpha.pe) == pytest.approx((0.805, 0.24), abs=1e-12)
    assert alpha.se == pytest.approx(0.14557, rel=RTOL_ALPHA_SE_VARIANT)
    assert abs(alpha.ci_lb - 0.419) < PRINTED_3 and alpha.ci_ub == 1.0
    dist = fleiss_kappa(_raw(DISTRIB_6RATERS))
    assert (dist.estimate, dist.se) == pytest.approx((0.4139265, 0.08119291), abs=0.5e-8)
    assert (round(dist.ci_lb, 2), round(dist.ci_ub, 3)) == (0.24, 0.588)


def _kappa_by_definition(a: list[int], b: list[int]) -> float:
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    categories = set(a) | set(b)
    pe = sum((a.count(c) / n) * (b.count(c) / n) for c in categories)
    return (po - pe) / (1 - pe)


def _fleiss_by_definition(ratings: np.ndarray) -> float:
    n, m = ratings.shape
    categories = np.unique(ratings)
    counts = np.array([[np.sum(row == c) for c in categories] for row in ratings])
    p_i = [(sum(c * c for c in row) - m) / (m * (m - 1)) for row in counts]
    p_j = counts.sum(axis=0) / (n * m)
    p_bar, p_e = np.mean(p_i), float(np.sum(p_j**2))
    return float((p_bar - p_e) / (1 - p_e))


def _alpha_by_pairable_values(ratings: list[list[int | None]]) -> float:
    """Krippendorff (2011): every ordered pair of values within a unit, weight 1/(m_u - 1)."""
    coincidences: dict[tuple[int, int], float] = {}
    for unit in ratings:
        values = [v for v in unit if v is not None]
        if len(values) < 2:
            continue
        for i, j in itertools.permutations(range(len(values)), 2):
            key = (values[i], values[j])
            coincidences[key] = coincidences.get(key, 0.0) + 1 / (len(values) - 1)
    n_c: dict[int, float] = {}
    for (c, _), weight in coincidences.items():
        n_c[c] = n_c.get(c, 0.0) + weight
    total = sum(n_c.values())
    disagree = sum(w for (c, k), w in coincidences.items() if c != k)
    expected = sum(n_c[c] * n_c[k] for c in n_c for k in n_c if c != k)
    return 1 - (total - 1) * disagree / expected


def _random_ratings(seed: int, n: int, m: int, q: int, missing: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, q, n)
    ratings = np.where(rng.random((n, m)) < 0.7, truth[:, None], rng.integers(0, q, (n, m)))
    out = ratings.astype(object)
    out[rng.random((n, m)) < missing] = None
    return out


@pytest.mark.parametrize("seed", range(5))
def test_cohen_kappa_direct_and_statsmodels(seed: int) -> None:
    ratings = _random_ratings(seed, 60, 2, 3)
    a, b = [int(x) for x in ratings[:, 0]], [int(x) for x in ratings[:, 1]]
    k = cohen_kappa(a, b)
    assert k.estimate == pytest.approx(_kappa_by_definition(a, b), rel=RTOL_CLOSED_FORM)
    table = np.zeros((3, 3))
    for x, y in zip(a, b, strict=True):
        table[x, y] += 1
    reference = cohens_kappa(table)
    assert k.estimate == pytest.approx(reference.kappa, rel=RTOL_CLOSED_FORM)
    assert k.se == pytest.approx(reference.std_kappa, rel=RTOL_CLOSED_FORM)
    assert k.estimate / k.zval == pytest.approx(reference.std_kappa0, rel=RTOL_CLOSED_FORM)


@pytest.mark.parametrize("seed", range(5))
def test_fleiss_kappa_direct_and_statsmodels(seed: int) -> None:
    ratings = _random_ratings(seed, 50, 4, 3).astype(int)
    k = fleiss_kappa(ratings)
    assert k.estimate == pytest.approx(_fleiss_by_definition(ratings), rel=RTOL_CLOSED_FORM)
    assert k.estimate == pytest.approx(
        sm_fleiss(aggregate_raters(ratings)[0]), rel=RTOL_CLOSED_FORM
    )


@pytest.mark.parametrize("seed", range(5))
def test_krippendorff_alpha_direct(seed: int) -> None:
    ratings = _random_ratings(seed, 40, 4, 4, missing=0.25).tolist()
    expected = _alpha_by_pairable_values(ratings)
    assert krippendorff_alpha(ratings).estimate == pytest.approx(expected, rel=RTOL_CLOSED_FORM)
    assert krippendorff_alpha(_KRIPPENDORFF_2011).estimate == pytest.approx(
        _alpha_by_pairable_values(_KRIPPENDORFF_2011), rel=RTOL_CLOSED_FORM
    )


def _jackknife_se(function, ratings: np.ndarray) -> float:
    n = len(ratings)
    values = np.array([function(np.delete(ratings, i, axis=0)).estimate for i in range(n)])
    return float(np.sqrt((n - 1) / n * np.sum((values - values.mean()) ** 2)))


@pytest.mark.parametrize("function", [fleiss_kappa, krippendorff_alpha])
def test_linearised_se_agrees_with_jackknife(function) -> None:
    ratings = _random_ratings(11, 400, 3, 2, missing=0.1)
    se = function(ratings).se
    assert se == pytest.approx(_jackknife_se(function, ratings), rel=RTOL_SE_VS_JACKKNIFE)


def test_cohen_se_agrees_with_jackknife() -> None:
    ratings = _random_ratings(3, 400, 2, 2)
    a, b = list(ratings[:, 0]), list(ratings[:, 1])
    values = [cohen_kappa(a[:i] + a[i + 1 :], b[:i] + b[i + 1 :]).estimate for i in range(400)]
    jack = math.sqrt(399 / 400 * sum((v - np.mean(values)) ** 2 for v in values))
    assert cohen_kappa(a, b).se == pytest.approx(jack, rel=RTOL_SE_VS_JACKKNIFE)


def test_percent_agreement_wilson_interval() -> None:
    ratings = [["in", "in"]] * 45 + [["in", "out"]] * 5 + [["out", None]] * 3
    p = percent_agreement(ratings)
    assert (p.n, p.estimate) == (50, 0.9)
    lb, ub = proportion_confint(45, 50, method="wilson")
    assert (p.ci_lb, p.ci_ub) == pytest.approx((lb, ub), rel=RTOL_CLOSED_FORM)


def test_agreement_table_of_a_stage() -> None:
    table = pd.DataFrame(
        {
            "ann": ["include", "exclude", "exclude", "include", None],
            "ben": ["include", "exclude", "include", "include", "exclude"],
            "cleo": ["include", "exclude", "include", "exclude", "exclude"],
        }
    )
    result = agreement(table, "title_abstract")
    frame = result.to_frame()
    assert list(frame["statistic"]) == [
        "percent_agreement",
        "percent_agreement",
        "cohen_kappa",
        "percent_agreement",
        "cohen_kappa",
        "percent_agreement",
        "cohen_kappa",
        "fleiss_kappa",
        "krippendorff_alpha",
    ]
    assert result.categories == ("exclude", "include")
    pair = result.pairs[0]
    assert (pair.reviewer_1, pair.reviewer_2, pair.kappa.n) == ("ann", "ben", 4)
    assert pair.kappa.estimate == pytest.approx(
        _kappa_by_definition([1, 0, 0, 1], [1, 0, 1, 1]), rel=RTOL_CLOSED_FORM
    )
    assert "fleiss_kappa" in result.summary()


def test_undefined_values_are_nan_with_a_reason() -> None:
    k = cohen_kappa(["include"] * 5, ["include"] * 5)
    assert math.isnan(k.estimate) and "one and the same decision" in k.note
    assert k.pa == 1.0
    assert "fewer than two" in fleiss_kappa([["a", "a"]]).note
    assert math.isnan(krippendorff_alpha([["a", "a"], ["a", "a"]]).estimate)
    assert percent_agreement([["a", None]]).note == "no record has two ratings"


def test_bad_input_is_refused() -> None:
    with pytest.raises(InputError, match="rater_1 has 2 ratings and rater_2 3"):
        cohen_kappa([1, 2], [1, 2, 3])
    with pytest.raises(InputError, match=r"level = 1\.5"):
        fleiss_kappa([[1, 1]], level=1.5)
    with pytest.raises(InputError, match="records x reviewers"):
        krippendorff_alpha([1, 2, 3])
    with pytest.raises(InputError, match="DataFrame"):
        agreement([[1, 1]])  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), min_size=5, max_size=40))
def test_relabelling_and_swapping_change_nothing(pairs: list[tuple[str, str]]) -> None:
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    rename = {"a": "z", "b": "x", "c": "y"}
    k = cohen_kappa(a, b)
    swapped = cohen_kappa(b, a)
    renamed = cohen_kappa([rename[x] for x in a], [rename[x] for x in b])
    for other in (swapped, renamed):
        assert (math.isnan(k.estimate) and math.isnan(other.estimate)) or other.estimate == (
            pytest.approx(k.estimate, rel=RTOL_CLOSED_FORM)
        )
    alpha = krippendorff_alpha(list(zip(a, b, strict=True)))
    alpha_renamed = krippendorff_alpha([(rename[x], rename[y]) for x, y in pairs])
    assert (math.isnan(alpha.estimate) and math.isnan(alpha_renamed.estimate)) or (
        alpha_renamed.estimate == pytest.approx(alpha.estimate, rel=RTOL_CLOSED_FORM)
    )
