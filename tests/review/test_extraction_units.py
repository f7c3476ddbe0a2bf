"""Units: values converted to the protocol's unit of the outcome before pooling (means,
SEs, medians and quartiles, precomputed mean differences), each conversion in the audit,
and the checks when a unit cannot be converted (SQLite and PostgreSQL). Every number is
computed here from the formulas."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from review_support import write_protocol
from test_extraction import RTOL_CLOSED_FORM, _from_iqr, _hedges
from test_extraction_effects import _BLOCK

from metasift.review import Review, parse_protocol
from metasift.review.protocol import ProtocolError

#: Glucose: 1 mg/dL = 0.0555 mmol/L (the protocol's factor).
F = 0.0555
SECTIONS = """[classification]
[risk_of_bias]
[characteristics]
coders = ["ann"]
arbiter = "dana"
[outcomes.glucose]
direction = "lower"
unit = "mmol/L"
factors = { "mg/dL" = 0.0555 }
"""
#: study -> arm -> values (intervention first).
STUDIES = {
    "Mmol 2018": {
        "peer": {"n": 40, "mean": 6.1, "sd": 1.2, "unit": "mmol/L"},
        "tau": {"n": 42, "mean": 6.8, "sd": 1.4, "unit": "mmol/L"},
    },
    "Mgdl 2019": {
        "peer": {"n": 30, "mean": 110.0, "se": 3.0, "unit": "mg/dL"},
        "tau": {"n": 31, "mean": 122.0, "se": 3.5, "unit": "MG/DL"},
    },
    "Median 2020": {
        "peer": {"n": 45, "median": 105.0, "q1": 95.0, "q3": 118.0, "unit": "mg/dL"},
        "tau": {"n": 44, "median": 112.0, "q1": 101.0, "q3": 126.0, "unit": "mg/dL"},
    },
    "NoUnit 2017": {
        "peer": {"n": 25, "mean": 6.0, "sd": 1.0},
        "tau": {"n": 25, "mean": 6.4, "sd": 1.1},
    },
    "Points 2021": {
        "peer": {"n": 20, "mean": 50.0, "sd": 9.0, "unit": "points"},
        "tau": {"n": 20, "mean": 55.0, "sd": 10.0, "unit": "points"},
    },
    "Mixed 2022": {
        "peer": {"n": 20, "mean": 6.0, "sd": 1.0, "unit": "mmol/L"},
        "tau": {"n": 20, "mean": 55.0, "sd": 10.0, "unit": "points"},
    },
}


def _md(m1: float, sd1: float, n1: float, m2: float, sd2: float, n2: float) -> tuple:
    """Mean difference and its variance (metafor measure "MD")."""
    return m1 - m2, sd1**2 / n1 + sd2**2 / n2


def _open(folder: Path, database_url: str) -> Review:
    write_protocol(folder, database_url, **{_BLOCK: SECTIONS})
    review = Review.open(folder)
    for study, arms in STUDIES.items():
        review.add_study(study)
        for (arm, values), role in zip(arms.items(), ("intervention", "control"), strict=True):
            review.extract_arm("ann", study, arm, role=role)
            review.extract_value("ann", study, "glucose", arm, **values)
    review.add_study("Effect 2016")
    review.extract_effect(
        "ann", "Effect 2016", "glucose", -9.0, sei=4.0, measure="MD", unit="mg/dL"
    )
    review.add_study("Effect 2015")
    review.extract_effect("ann", "Effect 2015", "glucose", -3.0, 1.0, "MD", unit="points")
    return review


def test_values_are_converted_before_pooling(tmp_path: Path, database_url: str) -> None:
    with _open(tmp_path, database_url) as review:
        table = review.extraction_table("glucose", measure="MD")
        data = table.data.set_index("study")
        median = [_from_iqr(45, 105.0, 95.0, 118.0), _from_iqr(44, 112.0, 101.0, 126.0)]
        expected = {
            "Mmol 2018": _md(6.1, 1.2, 40, 6.8, 1.4, 42),
            # SD = SE sqrt(n), then everything x 0.0555.
            "Mgdl 2019": _md(
                110 * F, 3 * math.sqrt(30) * F, 30, 122 * F, 3.5 * math.sqrt(31) * F, 31
            ),
            "Median 2020": _md(
                median[0][1] * F, median[0][2] * F, 45, median[1][1] * F, median[1][2] * F, 44
            ),
            "NoUnit 2017": _md(6.0, 1.0, 25, 6.4, 1.1, 25),
            "Effect 2016": (-9.0 * F, 16.0 * F**2),
        }  # fmt: skip
        assert sorted(data.index) == sorted(expected)
        for study, (yi, vi) in expected.items():
            assert data.loc[study, "yi"] == pytest.approx(yi, rel=RTOL_CLOSED_FORM), study
            assert data.loc[study, "vi"] == pytest.approx(vi, rel=RTOL_CLOSED_FORM), study
        checks = table.checks.set_index("study")
        left_out = ["Points 2021", "Mixed 2022", "Effect 2015"]
        assert checks.loc[left_out, "check"].tolist() == ["unit not convertible"] * 3
        assert checks.loc[left_out, "excluded"].tolist() == [True] * 3
        assert "add it to the outcome's factors" in checks.loc["Points 2021", "detail"]
        actions = table.audit.groupby(["study", "arm"])["action"].agg(list)
        # The unit is converted first, then the SE becomes an SD.
        assert actions.loc[("Mgdl 2019", "tau")] == [
            "unit converted: MG/DL -> mmol/L (x 0.0555)",
            "SD from SE",
        ]
        assert actions.loc[("NoUnit 2017", "peer")][0] == "no unit given: taken as mmol/L"


def test_smd_keeps_a_study_whose_arms_share_an_unknown_unit(tmp_path: Path) -> None:
    with _open(tmp_path, "") as review:
        table = review.extraction_table("glucose")  # SMD
        data = table.data.set_index("study")
        # Points 2021 stays: the SMD does not depend on the unit both arms share.
        assert data.loc["Points 2021", "yi"] == pytest.approx(
            _hedges(50.0, 9.0, 20, 55.0, 10.0, 20)[0], rel=RTOL_CLOSED_FORM
        )
        # The SMD is the same whether values are converted or not (a common factor).
        raw = _hedges(110.0, 3 * math.sqrt(30), 30, 122.0, 3.5 * math.sqrt(31), 31)
        assert data.loc["Mgdl 2019", "yi"] == pytest.approx(raw[0], rel=RTOL_CLOSED_FORM)
        checks = table.checks.set_index("study")
        assert (
            checks.loc["Points 2021", "excluded"] is False
            or not checks.loc["Points 2021", "excluded"]
        )
        assert "kept for SMD" in checks.loc["Points 2021", "detail"]
        assert bool(checks.loc["Mixed 2022", "excluded"]) and "Mixed 2022" not in data.index
        # A precomputed MD does not enter an SMD table: listed once, as another measure.
        assert "Effect 2016" not in data.index
        other = checks.loc[["Effect 2015", "Effect 2016"], "check"].tolist()
        assert other == ["other measure"] * 2


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        ('[outcomes.glucose]\nunit = "mmol/L"\nfactors = { "mg/dL" = 0 }', "finite factor > 0"),
        ('[outcomes.glucose]\nfactors = { "mg/dL" = 0.0555 }', "factors convert to `unit`"),
        ('[outcomes."a|b"]\n', "cannot contain '\\|' or ':'"),
    ],
)
def test_bad_units_in_the_protocol(outcome: str, message: str) -> None:
    text = (
        '[review]\ntitle = "x"\n[team]\nreviewers = ["ann", "dana"]\n'
        f'[screening.title_abstract]\narbiter = "dana"\n{outcome}\n'
    )
    with pytest.raises(ProtocolError, match=message):
        parse_protocol(text)


def test_sd_like_se_is_judged_within_one_instrument() -> None:
    from metasift.review.extraction_convert import se_like

    def row(study: str, sd: float, n: float = 100) -> dict:
        return {"study": study, "arm": "a", "method": "as reported", "sd": sd, "n": n}

    # Item means (SD near 0.5) and total scores (SD near 12) of different scales.
    rows = [row("A", 0.5), row("B", 0.6), row("C", 12.0), row("D", 11.0), row("E", 1.2)]
    scales = {"A": "RAS mean", "B": "RAS mean", "C": "RAS total", "D": "ras  TOTAL",
              "E": "RAS total"}  # fmt: skip
    flagged = {p[0] for p in se_like(rows, scales)}
    # E's SD of 1.2 on a total score whose SDs are near 11-12: 1.2 * sqrt(100) = 12
    assert flagged == {"E"}
    # Without instruments every SD is compared with every other: the item-mean scales
    # would be flagged against the total scores.
    assert {"A", "B"} <= {p[0] for p in se_like(rows)}
