"""Precomputed effects with labelled comparisons, standard errors and group sizes, and the
choice between arm values and reported effects in the analysable table (SQLite and
PostgreSQL); the extraction sheets carry the new columns both ways."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from review_support import write_protocol
from test_extraction import RTOL_CLOSED_FORM, SECTIONS, _hedges

from metasift.errors import InputError
from metasift.review import Review

ONE_EXTRACTOR = SECTIONS.replace(
    'coders = ["ann", "ben"]\narbiter = "dana"\n[characteristics.fields',
    'coders = ["ann"]\narbiter = "dana"\n[characteristics.fields',
)
_BLOCK = "[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n"
#: The columns every analysable table has, in order (one facet: setting).
COLUMNS = [
    "study", "comparison", "setting", "instrument", "construct", "quality", "source", "yi", "vi",
    "n1i", "n2i",
]  # fmt: skip


def set_analysis(path: Path, **settings: str) -> None:
    """Set keys of the protocol's [analysis] table (replaced where the template has them)."""
    text = path.read_text(encoding="utf-8")
    for key, value in settings.items():
        line = f'{key} = "{value}"'
        text, n = re.subn(rf"(?m)^{key} = .*$", line, text, count=1)
        if not n:
            text = text.replace("[analysis]\n", f"[analysis]\n{line}\n", 1)
    path.write_text(text, encoding="utf-8")


def _setup(folder: Path, database_url: str = "", sections: str = ONE_EXTRACTOR) -> Review:
    write_protocol(folder, database_url, **{_BLOCK: sections})
    review = Review.open(folder)
    for label in ("Both 2015", "Labels 2020", "Other 2019"):
        review.add_study(label)
    return review


def _extract(review: Review, who: str = "ann") -> None:
    # Both 2015 reports arm values and its own effect.
    for arm, role, mean, sd in (("peer", "intervention", 22.0, 5.0), ("tau", "control", 20.0, 6.0)):
        review.extract_arm(who, "Both 2015", arm, role=role, n_randomised=40)
        review.extract_value(who, "Both 2015", "personal_recovery", arm, n=38, mean=mean, sd=sd)
    review.extract_effect(who, "Both 2015", "personal_recovery", 0.5, sei=0.2, n1i=38, n2i=38)
    # Labels 2020: two intervention arms against one control, reported only as effects.
    review.extract_effect(
        who,
        "Labels 2020",
        "personal_recovery",
        0.4,
        0.04,
        comparison="high support",
        n1i=30,
        n2i=15,
    )
    review.extract_effect(
        who, "Labels 2020", "personal_recovery", 0.2, sei=0.25, comparison="low support"
    )
    # Other 2019 reports a mean difference only: not usable in an SMD table.
    review.extract_effect(who, "Other 2019", "personal_recovery", 3.1, 1.2, "MD")


def test_labelled_effects_and_the_effects_rule(tmp_path: Path, database_url: str) -> None:
    with _setup(tmp_path, database_url) as review:
        _extract(review)
        values = review.extraction_values()
        labelled = values[values["comparison"] == "high support"]
        assert sorted(labelled["field"]) == ["measure", "n1i", "n2i", "vi", "yi"]
        assert set(labelled["outcome"]) == {"personal_recovery"}
        table = review.extraction_table("personal_recovery")
        assert list(table.data.columns) == [*COLUMNS, "m1i", "sd1i", "m2i", "sd2i"]
        data = table.data.set_index(["study", "comparison"])
        yi, vi = _hedges(22.0, 5.0, 38, 20.0, 6.0, 38)
        both = data.loc[("Both 2015", "peer vs tau")]
        assert both["source"] == "arms"
        assert both["yi"] == pytest.approx(yi, rel=RTOL_CLOSED_FORM)
        assert both["vi"] == pytest.approx(vi, rel=RTOL_CLOSED_FORM)
        high = data.loc[("Labels 2020", "high support")]
        assert high[["source", "yi", "vi", "n1i", "n2i"]].tolist() == [
            "precomputed",
            0.4,
            0.04,
            30.0,
            15.0,
        ]
        low = data.loc[("Labels 2020", "low support")]
        # A standard error becomes a sampling variance: vi = sei^2 = 0.0625.
        assert low["vi"] == pytest.approx(0.25**2, rel=RTOL_CLOSED_FORM)
        assert math.isnan(low["n1i"]) and math.isnan(low["m1i"]) and math.isnan(low["quality"])
        assert "Other 2019" not in data.index.get_level_values("study")
        checks = table.checks[["study", "check", "excluded"]].values.tolist()
        assert checks == [["Other 2019", "other measure", True]]
        # "reported": Both 2015's own effect replaces its arms.
        reported = review.extraction_table("personal_recovery", effects="reported").data
        row = reported.set_index("study").loc["Both 2015"]
        assert (row["comparison"], row["source"], row["yi"]) == ("as reported", "precomputed", 0.5)
        assert row["vi"] == pytest.approx(0.04, rel=RTOL_CLOSED_FORM)
        assert row[["n1i", "n2i"]].tolist() == [38.0, 38.0]
        assert len(reported) == 3
        md = review.extraction_table("personal_recovery", measure="MD", effects="reported")
        assert md.data.set_index("study").loc["Other 2019", ["yi", "vi"]].tolist() == [3.1, 1.2]
        with pytest.raises(InputError, match="effects = 'both'"):
            review.extraction_table("personal_recovery", effects="both")


def test_effects_default_comes_from_the_analysis_plan(tmp_path: Path) -> None:
    path = write_protocol(tmp_path, "", **{_BLOCK: ONE_EXTRACTOR})
    set_analysis(path, effects="reported", multi_arm="split")
    with Review.open(tmp_path) as review:
        review.add_study("Both 2015")
        review.add_study("Labels 2020")
        review.add_study("Other 2019")
        _extract(review)
        data = review.extraction_table("personal_recovery").data.set_index("study")
        assert data.loc["Both 2015", "source"] == "precomputed"
        arms = review.extraction_table("personal_recovery", effects="arms").data
        assert arms.set_index("study").loc["Both 2015", "source"] == "arms"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"yi": 0.1}, "exactly one of vi"),
        ({"yi": 0.1, "vi": 0.01, "sei": 0.1}, "exactly one of vi"),
        ({"yi": 0.1, "sei": 0.0}, "sei = 0.0: must be > 0"),
        ({"yi": 0.1, "vi": -1}, "vi = -1: must be > 0"),
        ({"yi": None, "vi": 0.1}, "yi is missing"),
        ({"yi": 0.1, "vi": 0.1, "comparison": "a|b"}, "without '\\|'"),
        ({"yi": 0.1, "vi": 0.1, "n1i": 2.5}, "n1i = 2.5: a whole number"),
    ],
)
def test_bad_effects_are_refused(tmp_path: Path, kwargs: dict, message: str) -> None:
    with _setup(tmp_path) as review, pytest.raises(InputError, match=message):
        review.extract_effect("ann", "Labels 2020", "personal_recovery", **kwargs)


def test_labelled_effects_in_conflicts_and_resolution(tmp_path: Path) -> None:
    with _setup(tmp_path, sections=SECTIONS) as review:
        _extract(review, "ann")
        _extract(review, "ben")
        review.extract_effect(
            "ben", "Labels 2020", "personal_recovery", 0.2, sei=0.3, comparison="low support"
        )
        conflicts = review.extraction_conflicts()
        assert conflicts[["item", "by_ann", "by_ben"]].values.tolist() == [
            ["effect|personal_recovery|low support|sei", 0.25, 0.3]
        ]
        item = "effect|personal_recovery|low support|sei"
        with pytest.raises(InputError, match="must be > 0"):
            review.resolve_extraction("Labels 2020", item, -0.3, "dana", "table 3")
        review.resolve_extraction("Labels 2020", item, 0.25, "dana", "table 3")
        data = review.extraction_table("personal_recovery").data.set_index("comparison")
        assert data.loc["low support", "vi"] == pytest.approx(0.0625, rel=RTOL_CLOSED_FORM)


@pytest.mark.parametrize("suffix", [".xlsx", ""])
def test_effects_round_trip_through_sheets(tmp_path: Path, suffix: str) -> None:
    with _setup(tmp_path / "review", sections=SECTIONS) as review:
        _extract(review, "ann")
        sheet = review.export_extraction_sheet("ann", tmp_path / f"ann{suffix}")
        if suffix:
            rows = [list(r) for r in load_workbook(sheet)["effects"].iter_rows(values_only=True)]
        else:
            text = (sheet / "effects.csv").read_text("utf-8-sig").splitlines()
            rows = [line.split(",") for line in text]
        assert rows[0] == [
            "review_id",
            "extractor",
            "study",
            "outcome",
            "comparison",
            "yi",
            "vi",
            "sei",
            "measure",
            "n1i",
            "n2i",
            "unit",
        ]
        labels = [(r[2], r[4] or "") for r in rows[1:]]
        assert labels == [
            ("Both 2015", ""),
            ("Labels 2020", "high support"),
            ("Labels 2020", "low support"),
            ("Other 2019", ""),
        ]
        again = review.import_extraction_sheet("ann", sheet)
        # 4 effects x 7 fields, 2 arms x 2 fields, 2 values x 3 fields
        assert again.written == 0 and again.unchanged == 28 + 4 + 6
        # The same sheet as ben's: every field agrees with ann's.
        if suffix:
            book = load_workbook(sheet)
            for tab in ("characteristics", "arms", "values", "effects", "availability"):
                for row in book[tab].iter_rows(min_row=2):
                    row[1].value = "ben"
            book.save(tmp_path / "ben.xlsx")
            ben = tmp_path / "ben.xlsx"
        else:
            ben = tmp_path / "ben"
            ben.mkdir()
            for path in sheet.glob("*.csv"):
                text = path.read_text("utf-8-sig").replace(",ann,", ",ben,")
                (ben / path.name).write_text(text, encoding="utf-8")
        assert review.import_extraction_sheet("ben", ben).written == 28 + 4 + 6
        assert review.extraction_conflicts().empty
        after = review.extraction_table("personal_recovery").data
    with _setup(tmp_path / "single") as single:  # the same values typed in by one extractor
        _extract(single)
        assert after.equals(single.extraction_table("personal_recovery").data)
        assert len(after) == 3


def test_smd_convention_of_arm_effects(tmp_path: Path) -> None:
    from metasift.stats import effect_sizes

    path = write_protocol(tmp_path, "", **{_BLOCK: ONE_EXTRACTOR})
    set_analysis(path, smd_convention="revman5")
    arms = {"m1i": 22.0, "sd1i": 5.0, "n1i": 38, "m2i": 20.0, "sd2i": 6.0, "n2i": 38}
    with Review.open(tmp_path) as review:
        for label in ("Both 2015", "Labels 2020", "Other 2019"):
            review.add_study(label)
        _extract(review)
        for convention in ("revman5", "metafor", "cma"):
            given = None if convention == "revman5" else convention  # revman5: the plan's
            table = review.extraction_table("personal_recovery", smd_convention=given).data
            row = table.set_index("study").loc["Both 2015"]
            expected = effect_sizes("SMD", **arms, convention=convention)
            assert row["source"] == "arms"
            assert row["yi"] == pytest.approx(float(expected.yi[0]), rel=RTOL_CLOSED_FORM)
            assert row["vi"] == pytest.approx(float(expected.vi[0]), rel=RTOL_CLOSED_FORM)
        with pytest.raises(InputError, match=r"smd_convention = 'spss': use one of"):
            review.extraction_table("personal_recovery", smd_convention="spss")
