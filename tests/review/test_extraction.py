"""Data extraction from included studies to the analysable table (SQLite and PostgreSQL):
two extractors, field-level conflicts, adjudication, conversions (SE, median/IQR),
multi-arm studies, a reversed scale, a precomputed effect, data availability; every number
checked against a direct computation from the formulas."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from review_support import write_protocol
from scipy import special, stats

from metasift.errors import InputError
from metasift.review import Review

#: Closed-form values computed in another order.
RTOL_CLOSED_FORM = 1e-10

SECTIONS = """[classification]
coders = ["ann", "ben"]
arbiter = "dana"
[classification.facets.setting]
categories = ["added", "established", "independent", "online"]
[risk_of_bias]
coders = ["ann", "ben"]
arbiter = "dana"
[characteristics]
coders = ["ann", "ben"]
arbiter = "dana"
[characteristics.fields.country]
type = "text"
[characteristics.fields.weeks]
type = "integer"
[characteristics.fields.peers_paid]
type = "boolean"
[outcomes.personal_recovery]
group = "personal recovery"
direction = "higher"
"""

#: study -> arms (name, role, n randomised) and the values of personal recovery per arm.
STUDIES: dict[str, dict[str, Any]] = {
    "Two 2015": {
        "arms": [("peer", "intervention", 40), ("tau", "control", 40)],
        "values": {
            "peer": {"n": 38, "mean": 22.0, "sd": 5.0},
            "tau": {"n": 36, "mean": 20.0, "sd": 6.0},
        },
    },
    "Multi 2017": {  # multi-arm: two intervention arms, one control
        "arms": [
            ("group", "intervention", 30),
            ("one-to-one", "intervention", 30),
            ("tau", "control", 32),
        ],
        "values": {
            "group": {"n": 28, "mean": 30.0, "sd": 7.0},
            "one-to-one": {"n": 29, "mean": 27.0, "sd": 8.0},
            "tau": {"n": 30, "mean": 25.0, "sd": 7.5},
        },
    },
    "Median 2019": {  # medians with quartiles
        "arms": [("peer", "intervention", 50), ("waitlist", "control", 50)],
        "values": {
            "peer": {"n": 45, "median": 15.0, "q1": 12.0, "q3": 19.0},
            "waitlist": {"n": 47, "median": 13.0, "q1": 10.0, "q3": 17.0},
        },
    },
    "Se 2020": {  # standard errors instead of SDs, on a scale where lower is better
        "arms": [
            ("peer", "intervention", 60),
            ("online", "intervention", 60),
            ("tau", "control", 60),
        ],
        "values": {
            "peer": {"n": 55, "mean": 40.0, "se": 1.2, "direction": "lower"},
            "online": {"n": 52, "mean": 42.0, "se": 1.3},
            "tau": {"n": 57, "mean": 45.0, "se": 1.1},
        },
    },
}


def _hedges(m1: float, sd1: float, n1: float, m2: float, sd2: float, n2: float) -> tuple:
    m = n1 + n2 - 2
    sp = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / m)
    j = math.exp(special.gammaln(m / 2) - special.gammaln((m - 1) / 2)) / math.sqrt(m / 2)
    yi = j * (m1 - m2) / sp
    return yi, 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))


def _combine(a: tuple, b: tuple) -> tuple:
    """Cochrane Handbook Table 6.5.a: (n, mean, sd) of two groups together."""
    (n1, m1, s1), (n2, m2, s2) = a, b
    n = n1 + n2
    var = ((n1 - 1) * s1**2 + (n2 - 1) * s2**2 + n1 * n2 / n * (m1 - m2) ** 2) / (n - 1)
    return n, (n1 * m1 + n2 * m2) / n, math.sqrt(var)


def _from_iqr(n: float, median: float, q1: float, q3: float) -> tuple:
    """Luo et al. (2018) mean and Wan et al. (2014) SD for {q1, median, q3}."""
    w = 0.7 + 0.39 / n
    eta = 2 * stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25))
    return n, w * (q1 + q3) / 2 + (1 - w) * median, (q3 - q1) / eta


def expected() -> dict[str, tuple]:
    two = _hedges(22.0, 5.0, 38, 20.0, 6.0, 36)
    multi = _combine((28, 30.0, 7.0), (29, 27.0, 8.0))
    median = _hedges(
        *_from_iqr(45, 15.0, 12.0, 19.0)[1:], 45, *_from_iqr(47, 13.0, 10.0, 17.0)[1:], 47
    )
    # Se 2020: SD = SE sqrt(n); its scale runs the other way, so means are negated.
    peer, online = (55, -40.0, 1.2 * math.sqrt(55)), (52, -42.0, 1.3 * math.sqrt(52))
    se = _combine(peer, online)
    return {
        "Two 2015": two,
        "Multi 2017": _hedges(multi[1], multi[2], multi[0], 25.0, 7.5, 30),
        "Median 2019": median,
        "Se 2020": _hedges(se[1], se[2], se[0], -45.0, 1.1 * math.sqrt(57), 57),
    }


def _extract(review: Review, who: str, slip: bool = False) -> None:
    for study, spec in STUDIES.items():
        for arm, role, n in spec["arms"]:
            review.extract_arm(who, study, arm, role=role, n_randomised=n)
        for arm, fields in spec["values"].items():
            fields = dict(fields)
            if slip and study == "Two 2015" and arm == "tau":
                fields["sd"] = 6.5
            review.extract_value(who, study, "personal_recovery", arm, **fields)
        review.extract_characteristics(
            who, study, {"country": "UK", "weeks": 12, "peers_paid": "yes"}
        )
        review.data_availability(who, study, "personal_recovery", "usable")
    review.extract_effect(who, "Effect 2021", "personal_recovery", 0.31, 0.02)
    review.data_availability(who, "Effect 2021", "personal_recovery", "usable")
    review.data_availability(
        who, "Asked 2018", "personal_recovery", "requested", "2024-02-01", "no reply"
    )


def test_extraction_to_the_analysable_table(tmp_path: Path, database_url: str) -> None:
    write_protocol(
        tmp_path,
        database_url,
        **{"[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n": SECTIONS},
    )
    with Review.open(tmp_path) as review:
        for label in [*STUDIES, "Effect 2021", "Asked 2018"]:
            review.add_study(label)
        _extract(review, "ann")
        assert review.extraction_conflicts().empty  # blind until ben has extracted
        _extract(review, "ben", slip=True)
        conflicts = review.extraction_conflicts()
        assert conflicts[["study", "item", "by_ann", "by_ben"]].values.tolist() == [
            ["Two 2015", "value|personal_recovery|tau|sd", 6.0, 6.5]
        ]
        with pytest.raises(InputError, match="a number"):
            review.resolve_extraction(
                "Two 2015", "value|personal_recovery|tau|sd", "six", "dana", "p. 7"
            )
        review.resolve_extraction(
            "Two 2015", "value|personal_recovery|tau|sd", 6.0, "dana", "table 2"
        )
        assert review.extraction_conflicts().empty
        for study in [*STUDIES, "Effect 2021"]:
            for who in ("ann", "ben"):
                review.classify(who, study, {"setting": "online" if "Se" in study else "added"})
        table = review.extraction_table("personal_recovery")
        data = table.data.set_index("study")
        for study, (yi, vi) in expected().items():
            assert data.loc[study, "yi"] == pytest.approx(yi, rel=RTOL_CLOSED_FORM), study
            assert data.loc[study, "vi"] == pytest.approx(vi, rel=RTOL_CLOSED_FORM), study
        assert data.loc["Effect 2021", ["yi", "vi", "source"]].tolist() == [
            0.31,
            0.02,
            "precomputed",
        ]
        assert data.loc["Se 2020", "setting"] == "online"
        assert data.loc["Multi 2017", "n1i"] == 57
        checks = table.checks
        assert checks[["study", "check"]].values.tolist() == [["Se 2020", "scale direction"]]
        availability = review.availability_table().set_index("study")
        assert availability.loc["Asked 2018", ["status", "requested_on", "reply"]].tolist() == [
            "requested",
            "2024-02-01",
            "no reply",
        ]
        assert (availability["status"] == "usable").sum() == 5
        chars = review.characteristics_table()
        assert chars.loc["Median 2019"].tolist() == ["UK", 12, True]


def test_checks_before_pooling(tmp_path: Path) -> None:
    text = SECTIONS.replace(
        'coders = ["ann", "ben"]\narbiter = "dana"\n[characteristics.fields',
        'coders = ["ann"]\narbiter = "dana"\n[characteristics.fields',
    )
    write_protocol(
        tmp_path, "", **{"[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n": text}
    )
    with Review.open(tmp_path) as review:
        rows = {"A": (20.0, 5.0), "B": (21.0, 5.5), "C": (19.0, 0.6), "D": (20.0, 0.0)}
        for study, (mean, sd) in rows.items():
            review.add_study(study)
            review.extract_arm("ann", study, "peer", role="intervention", n_randomised=50)
            review.extract_arm("ann", study, "tau", role="control", n_randomised=50)
            review.extract_value(
                "ann",
                study,
                "personal_recovery",
                "peer",
                n=60 if study == "A" else 50,
                mean=mean + 1,
                sd=sd,
            )
            review.extract_value("ann", study, "personal_recovery", "tau", n=50, mean=mean, sd=sd)
        review.add_study("E")
        review.extract_arm("ann", "E", "peer", role="intervention")
        review.extract_arm("ann", "E", "tau", role="control")
        review.extract_value(
            "ann", "E", "personal_recovery", "peer", n=30, mean=5.0, ci_lb=6.0, ci_ub=8.0
        )
        review.extract_value("ann", "E", "personal_recovery", "tau", n=30, mean=5.0, sd=5.0)
        with pytest.raises(InputError, match="not in \\[outcomes\\]"):
            review.extract_value("ann", "A", "clinical", "peer", n=3)
        with pytest.raises(InputError, match="role"):
            review.extract_arm("ann", "A", "x", role="placebo")
        table = review.extraction_table("personal_recovery")
        found = sorted(map(tuple, table.checks[["study", "check", "excluded"]].values.tolist()))
        assert found == [
            ("A", "n > randomised", False),
            ("C", "SD looks like an SE", False),
            ("C", "SD looks like an SE", False),
            ("D", "SD <= 0", True),
            ("D", "SD <= 0", True),
            ("E", "CI misses mean", True),
        ]
        assert sorted(table.data["study"]) == ["A", "B", "C"]


def _fill_for(source: Path, target: Path, extractor: str) -> None:
    """Copy one extractor's workbook rows into another's, as a second extractor would."""
    book = load_workbook(source)
    for tab in ("characteristics", "arms", "values", "effects", "availability"):
        for row in book[tab].iter_rows(min_row=2):
            row[1].value = extractor
    book.save(target)


def test_extraction_sheets_round_trip(tmp_path: Path, database_url: str) -> None:
    folder = tmp_path / "review"
    write_protocol(
        folder,
        database_url,
        **{"[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n": SECTIONS},
    )
    with Review.open(folder) as review:
        for label in [*STUDIES, "Effect 2021", "Asked 2018"]:
            review.add_study(label)
        _extract(review, "ann")
        sheet = review.export_extraction_sheet("ann", tmp_path / "ann.xlsx")
        book = load_workbook(sheet)
        assert book.sheetnames == [
            "instructions",
            "lists",
            "characteristics",
            "arms",
            "values",
            "effects",
            "availability",
        ]
        assert book["lists"].sheet_state == "hidden"
        assert book["arms"].data_validations.dataValidation  # role and study lists
        again = review.import_extraction_sheet("ann", sheet)
        assert again.written == 0 and again.unchanged > 0
        _fill_for(sheet, tmp_path / "ben.xlsx", "ben")
        result = review.import_extraction_sheet("ben", tmp_path / "ben.xlsx")
        assert result.written == again.unchanged
        assert review.extraction_conflicts().empty
        table = review.extraction_table("personal_recovery").data.set_index("study")
        for study, (yi, _) in expected().items():
            assert table.loc[study, "yi"] == pytest.approx(yi, rel=RTOL_CLOSED_FORM)
        # A bad workbook: every problem by tab and row, and nothing recorded.
        bad = load_workbook(tmp_path / "ben.xlsx")
        bad["values"]["F2"] = "abc"
        bad["arms"]["C3"] = "Nobody 1999"
        bad["availability"]["A2"] = "another-review"
        bad.save(tmp_path / "bad.xlsx")
        before = len(review.extraction_status())
        with pytest.raises(InputError) as error:
            review.import_extraction_sheet("ben", tmp_path / "bad.xlsx")
        message = str(error.value)
        assert "3 problem(s)" in message and "nothing was imported" in message
        assert "values row 2" in message and "arms row 3" in message
        assert "availability row 2" in message
        assert len(review.extraction_status()) == before


def test_events_give_odds_ratios(tmp_path: Path) -> None:
    text = SECTIONS.replace(
        'coders = ["ann", "ben"]\narbiter = "dana"\n[characteristics.fields',
        'coders = ["ann"]\narbiter = "dana"\n[characteristics.fields',
    )
    changes = {"[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n": text}
    write_protocol(tmp_path, "", **changes)
    counts = {"A": ((12, 50), (20, 52)), "B": ((5, 30), (9, 31))}
    with Review.open(tmp_path) as review:
        for study, ((a, n1), (c, n2)) in counts.items():
            review.add_study(study)
            review.extract_arm("ann", study, "peer", role="intervention")
            review.extract_arm("ann", study, "tau", role="control")
            review.extract_value("ann", study, "personal_recovery", "peer", n=n1, events=a)
            review.extract_value("ann", study, "personal_recovery", "tau", n=n2, events=c)
        data = review.extraction_table("personal_recovery", measure="OR").data.set_index("study")
    for study, ((a, n1), (c, n2)) in counts.items():
        b, d = n1 - a, n2 - c
        assert data.loc[study, "yi"] == pytest.approx(
            math.log(a * d / (b * c)), rel=RTOL_CLOSED_FORM
        )
        assert data.loc[study, "vi"] == pytest.approx(
            1 / a + 1 / b + 1 / c + 1 / d, rel=RTOL_CLOSED_FORM
        )


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def _write_csv_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_extraction_csv_folders_round_trip(tmp_path: Path, database_url: str) -> None:
    folder = tmp_path / "review"
    write_protocol(
        folder,
        database_url,
        **{"[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n": SECTIONS},
    )
    with Review.open(folder) as review:
        for label in [*STUDIES, "Effect 2021", "Asked 2018"]:
            review.add_study(label)
        _extract(review, "ann")
        with pytest.raises(InputError, match=r"a \.xlsx workbook or a folder"):
            review.export_extraction_sheet("ann", tmp_path / "ann.csv")
        sheet = review.export_extraction_sheet("ann", tmp_path / "ann")
        tables = ["characteristics", "arms", "values", "effects", "availability"]
        assert sorted(p.name for p in sheet.iterdir()) == sorted(
            ["README.txt", *[f"{t}.csv" for t in tables]]
        )
        assert "role: intervention, control" in (sheet / "README.txt").read_text("utf-8")
        characteristics = {r[2]: r[3:] for r in _csv_rows(sheet / "characteristics.csv")}
        assert characteristics["Two 2015"] == ["UK", "12", "yes"]
        assert characteristics["Asked 2018"] == ["", "", ""]
        again = review.import_extraction_sheet("ann", sheet)
        assert again.written == 0 and again.unchanged > 0
        ben = tmp_path / "ben"
        ben.mkdir()
        for table in tables:
            rows = _csv_rows(sheet / f"{table}.csv")
            _write_csv_rows(
                ben / f"{table}.csv", [rows[0], *[[r[0], "ben", *r[2:]] for r in rows[1:]]]
            )
        result = review.import_extraction_sheet("ben", ben)
        assert result.written == again.unchanged
        assert review.extraction_conflicts().empty
        table = review.extraction_table("personal_recovery").data.set_index("study")
        for study, (yi, _) in expected().items():
            assert table.loc[study, "yi"] == pytest.approx(yi, rel=RTOL_CLOSED_FORM)
        # Row-level errors by file and row, and nothing recorded.
        values = _csv_rows(ben / "values.csv")
        values[1][values[0].index("mean")] = "abc"
        _write_csv_rows(ben / "values.csv", values)
        arms = _csv_rows(ben / "arms.csv")
        arms[2][2] = "Nobody 1999"
        _write_csv_rows(ben / "arms.csv", arms)
        before = len(review.extraction_status())
        with pytest.raises(InputError) as error:
            review.import_extraction_sheet("ben", ben)
        message = str(error.value)
        assert "2 problem(s)" in message and "nothing was imported" in message
        assert "values row 2" in message and "'abc': a number is needed" in message
        assert "arms row 3: study 'Nobody 1999'" in message
        assert len(review.extraction_status()) == before
        with pytest.raises(InputError, match="holds none of the sheet's files"):
            review.import_extraction_sheet("ben", tmp_path)
