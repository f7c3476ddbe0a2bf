"""PRISMA 2020 counts (the PRISMA2020 R package's CSV) and the flow diagram."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from metasift.errors import DataWarning, InputError
from metasift.plots import PrismaCounts, prisma_flow, read_prisma_csv
from metasift.plots.prisma_data import COUNT_VARIABLES, LIST_VARIABLES

TEMPLATE = Path(__file__).resolve().parents[1] / "data" / "plots" / "PRISMA.csv"

# A complete, internally consistent set of counts (made up for the test: every sum adds up).
FULL: dict[str, Any] = {
    "previous_studies": 12,
    "previous_reports": 15,
    "database_results": 12161,
    "database_specific_results": {
        "PubMed": 5000,
        "PsycInfo": 3000,
        "CINAHL": 2000,
        "Cochrane Library": 1161,
        "Web of Science": 1000,
    },
    "register_results": 119,
    "register_specific_results": "ClinicalTrials.gov, 100; WHO ICTRP, 19",
    "website_results": 1,
    "organisation_results": 0,
    "citations_results": 20,
    "duplicates": 492,
    "excluded_automatic": 0,
    "excluded_other": 0,
    "records_screened": 11788,
    "records_excluded": 11500,
    "dbr_sought_reports": 288,
    "dbr_notretrieved_reports": 3,
    "dbr_assessed": 285,
    "dbr_excluded": {
        "Not a randomised controlled trial": 130,
        "Intervention not delivered by peers with lived experience of mental illness": 80,
        "No outcome of interest": 40,
    },
    "other_sought_reports": 21,
    "other_notretrieved_reports": 1,
    "other_assessed": 20,
    "other_excluded": "Wrong population, 18",
    "new_studies": 35,
    "new_reports": 37,
    "total_studies": 47,
    "total_reports": 52,
    "total_studies_ma": 45,
    "total_reports_ma": 50,
}


def test_reading_the_r_package_template() -> None:
    counts = read_prisma_csv(TEMPLATE)
    assert counts.records_screened == 0
    assert counts.total_studies_ma == 0
    # "xxx" placeholders are "not reported", the names are kept.
    assert counts.database_specific_results == (
        ("Database 1", None),
        ("Database 2", None),
        ("Database 3", None),
    )
    assert counts.dbr_excluded == (("Reason1", None), ("Reason2", None), ("Reason3", None))


def test_written_csv_has_the_template_rows_and_ids(tmp_path: Path) -> None:
    ours = pd.read_csv(
        PrismaCounts.from_mapping(FULL).write_csv(tmp_path / "PRISMA.csv"),
        dtype=str,
        keep_default_na=False,
    )
    template = pd.read_csv(TEMPLATE, dtype=str, keep_default_na=False)
    assert list(ours.columns) == list(template.columns)
    assert ours["data"].tolist() == template["data"].tolist()
    assert ours["box"].tolist() == template["box"].tolist()
    node_given = ~template["node"].isin(["", "NA"])
    assert ours["node"][node_given].tolist() == template["node"][node_given].tolist()
    row = ours.set_index("data").loc
    assert row["database_specific_results", "n"] == (
        "PubMed, 5000; PsycInfo, 3000; CINAHL, 2000; Cochrane Library, 1161; Web of Science, 1000"
    )
    assert row["records_screened", "n"] == "11788"


def test_round_trip_keeps_every_variable(tmp_path: Path) -> None:
    counts = PrismaCounts.from_mapping(FULL)
    back = read_prisma_csv(counts.write_csv(tmp_path / "p.csv"))
    assert back == counts
    assert set(COUNT_VARIABLES) | set(LIST_VARIABLES) == set(counts.__dataclass_fields__)


def test_values_are_parsed_strictly() -> None:
    counts = PrismaCounts.from_mapping(
        {"records_screened": "11,788", "duplicates": "NA", "dbr_excluded": "42"}
    )
    assert counts.records_screened == 11788
    assert counts.duplicates is None
    assert counts.dbr_excluded == (("", 42),)
    with pytest.raises(InputError, match=r"records_screened = '12\.5' is not a count"):
        PrismaCounts.from_mapping({"records_screened": "12.5"})
    with pytest.raises(InputError, match=r"duplicates = -3: expected a whole number >= 0"):
        PrismaCounts.from_mapping({"duplicates": -3})
    with pytest.raises(InputError, match=r"'records_screen' not PRISMA2020 variable"):
        PrismaCounts.from_mapping({"records_screen": 1})
    with pytest.raises(InputError, match=r"dbr_excluded \('Wrong design'\) = 'many'"):
        PrismaCounts.from_mapping({"dbr_excluded": "Wrong design, many"})
    with pytest.raises(InputError, match="contains ',' or ';'"):
        PrismaCounts.from_mapping({"dbr_excluded": [("Design, wrong", 3)]}).to_frame()


def test_csv_problems_are_named(tmp_path: Path) -> None:
    twice = tmp_path / "twice.csv"
    twice.write_text("data,n\nduplicates,3\nduplicates,4\n")
    with pytest.raises(InputError, match="line 3: variable 'duplicates' appears twice"):
        read_prisma_csv(twice)
    no_n = tmp_path / "no_n.csv"
    no_n.write_text("data,value\nduplicates,3\n")
    with pytest.raises(InputError, match=r"column\(s\) \['n'\] missing"):
        read_prisma_csv(no_n)
    extra = tmp_path / "extra.csv"
    extra.write_text("data,n\nduplicates,3\nrecords_maybe,4\n")
    with pytest.warns(DataWarning, match="ignored unknown PRISMA variable"):
        assert read_prisma_csv(extra).duplicates == 3


def test_consistency_check_finds_sums_that_do_not_add_up() -> None:
    assert PrismaCounts.from_mapping(FULL).check() == []
    wrong = PrismaCounts.from_mapping({**FULL, "records_screened": 11790, "total_studies_ma": 50})
    messages = wrong.check()
    assert any(m.startswith("records_screened = 11790 but") and "11788" in m for m in messages)
    assert any("dbr_sought_reports = 288" in m for m in messages)
    assert any("total_studies_ma = 50 is more than the 47" in m for m in messages)
    with pytest.warns(DataWarning, match="PRISMA counts do not add up"):
        prisma_flow(wrong)


def _boxes(fig: Any) -> dict[str, Rectangle]:
    return {
        p.get_gid().removeprefix("prisma-box-"): p
        for p in fig.axes[0].patches
        if (p.get_gid() or "").startswith("prisma-box-")
    }


def _texts(fig: Any) -> dict[str, str]:
    return {
        t.get_gid().removeprefix("prisma-text-"): t.get_text()
        for t in fig.axes[0].texts
        if (t.get_gid() or "").startswith("prisma-text-")
    }


def _numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\(n = ([\d,]+)\)", text)]


# Box key -> the variables whose values the box shows, in order.
BOX_VARIABLES = {
    "previous": ["previous_studies", "previous_reports"],
    "removed": ["duplicates", "excluded_automatic", "excluded_other"],
    "screened": ["records_screened"],
    "screened_excluded": ["records_excluded"],
    "sought": ["dbr_sought_reports"],
    "not_retrieved": ["dbr_notretrieved_reports"],
    "assessed": ["dbr_assessed"],
    "other_identification": ["website_results", "organisation_results", "citations_results"],
    "other_sought": ["other_sought_reports"],
    "other_not_retrieved": ["other_notretrieved_reports"],
    "other_assessed": ["other_assessed"],
    "included": ["new_studies", "new_reports"],
    "total": ["total_studies", "total_reports"],
    "meta_analysis": ["total_studies_ma", "total_reports_ma"],
}


def test_box_counts_equal_the_input(
    clean_layout: Callable[..., int], write_all: Callable[..., Any]
) -> None:
    fig = prisma_flow(FULL)
    texts = _texts(fig)
    for key, variables in BOX_VARIABLES.items():
        assert _numbers(texts[key]) == [FULL[v] for v in variables], key
    databases = FULL["database_specific_results"]
    assert _numbers(texts["identification"]) == [12161, *databases.values(), 119, 100, 19]
    assert _numbers(texts["excluded"]) == list(FULL["dbr_excluded"].values())
    assert _numbers(texts["other_excluded"]) == [18]
    assert "Not a randomised controlled trial (n = 130)" in " ".join(texts["excluded"].split())
    assert "12,161" in texts["identification"]  # thousands separated as in the R package
    clean_layout(fig)
    write_all(fig, "prisma_full")


def test_boxes_do_not_overlap_and_text_stays_inside() -> None:
    fig = prisma_flow(FULL)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = {k: b.get_window_extent(renderer) for k, b in _boxes(fig).items()}
    keys = sorted(boxes)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            assert not boxes[a].overlaps(boxes[b]), (a, b)
    texts = {
        t.get_gid().removeprefix("prisma-text-"): t.get_window_extent(renderer)
        for t in fig.axes[0].texts
        if t.get_gid()
    }
    for key, box in boxes.items():
        inner = texts[key]
        assert box.x0 < inner.x0 and inner.x1 < box.x1, key
        assert box.y0 < inner.y0 and inner.y1 < box.y1, key


def test_columns_appear_only_when_they_have_counts(write_all: Callable[..., Any]) -> None:
    smit = {"records_screened": 3455, "new_studies": 30, "total_studies_ma": 28}
    fig = prisma_flow(smit)
    boxes = _boxes(fig)
    assert "previous" not in boxes and "other_identification" not in boxes
    assert "meta_analysis" in boxes
    texts = _texts(fig)
    assert texts["screened"] == "Records screened\n(n = 3,455)"
    assert _numbers(texts["included"]) == [30]
    assert "(n = NA)" in texts["included"]  # reports not reported are shown as such
    assert _numbers(texts["meta_analysis"]) == [28]
    forced = prisma_flow(smit, other=True, previous=True, missing="not reported")
    assert {"previous", "other_identification", "total"} <= set(_boxes(forced))
    assert "(n = not reported)" in _texts(forced)["previous"]
    write_all(fig, "prisma_smit")


def test_every_step_is_joined_by_an_arrow() -> None:
    fig = prisma_flow(FULL)
    # 6 down the main column, 4 to its side boxes, 2 + 2 in the other-methods column,
    # 1 from other methods into the included box, 1 from the previous review.
    arrows = [c for c in fig.axes[0].texts if c.get_text() == "" and hasattr(c, "arrow_patch")]
    assert len(arrows) == 6 + 4 + 4 + 1 + 1


def test_long_reasons_and_many_databases_wrap_inside_their_boxes(
    clean_layout: Callable[..., int],
) -> None:
    counts = {
        **FULL,
        "database_specific_results": {
            f"Database with a long name number {i}": i for i in range(12)
        },
        "dbr_excluded": {
            f"Reason {i}: participants did not meet the diagnostic criteria of the protocol": i
            for i in range(15)
        },
    }
    fig = prisma_flow(counts, check=False)
    texts = _texts(fig)
    assert _numbers(texts["excluded"]) == list(range(15))
    clean_layout(fig)


def test_template_file_draws(write_all: Callable[..., Any]) -> None:
    fig = prisma_flow(TEMPLATE)
    assert "Database 1 (n = NA)" in _texts(fig)["identification"]
    write_all(fig, "prisma_template")


def test_bad_counts_argument() -> None:
    with pytest.raises(InputError, match="expected PrismaCounts, a mapping"):
        prisma_flow(42)  # type: ignore[arg-type]
