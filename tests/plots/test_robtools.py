"""Risk-of-bias tools as data and robvis-shaped tables: reading, writing, bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from metasift.errors import InputError
from metasift.plots import (
    ROB_TOOLS,
    Domain,
    Judgement,
    RobTool,
    read_rob_table,
    rob_table,
    rob_tool,
    write_rob_table,
)

ROBVIS = Path(__file__).resolve().parents[1] / "data" / "plots" / "robvis"

# (file, tool, number of domains) for every robvis example table.
EXAMPLES = [
    ("data_rob2.csv", "ROB2", 5),
    ("data_robins_i.csv", "ROBINS-I", 7),
    ("data_rob1.csv", "ROB1", 7),
    ("data_quadas.csv", "QUADAS-2", 4),
    ("data_quips.csv", "Generic", 6),
    ("data_robins_e.csv", "Generic", 7),
    ("data_rob2_cluster.csv", "Generic", 6),
]


@pytest.mark.parametrize(("name", "tool", "n_domains"), EXAMPLES)
def test_robvis_examples_are_read_cell_for_cell(name: str, tool: str, n_domains: int) -> None:
    raw = pd.read_csv(ROBVIS / name, dtype=str)
    table = read_rob_table(ROBVIS / name, tool)
    assert table.studies == tuple(raw.iloc[:, 0])
    assert len(table.domains) == n_domains
    assert table.overall is not None
    for i, row in enumerate(raw.itertuples(index=False)):
        cells = list(row)[1:]
        expected = [table.tool.judgement(v).label for v in cells]
        assert [*table.judgements[i], table.overall[i]] == expected
    # Same labels where the file already uses the tool's spelling (all but aliases).
    assert table.matrix().to_numpy().ravel().tolist() == [
        table.tool.judgement(v).label for v in raw.iloc[:, 1:].to_numpy().ravel()
    ]


@pytest.mark.parametrize(
    "name", ["data_rob2.csv", "data_robins_i.csv", "data_rob1.csv", "data_quadas.csv"]
)
def test_writing_gives_back_the_robvis_file_byte_for_byte(name: str, tmp_path: Path) -> None:
    tool = {
        "data_rob2.csv": "ROB2",
        "data_robins_i.csv": "ROBINS-I",
        "data_rob1.csv": "ROB1",
        "data_quadas.csv": "QUADAS-2",
    }[name]
    out = write_rob_table(read_rob_table(ROBVIS / name, tool), tmp_path / name)
    assert out.read_bytes() == (ROBVIS / name).read_bytes()


def test_generic_table_takes_domains_from_its_columns() -> None:
    table = read_rob_table(ROBVIS / "data_rob2_cluster.csv", "generic")
    assert [d.name for d in table.domains] == ["D1", "D1b", "D2", "D3", "D4", "D5"]
    assert table.judgements[0][1] == "Not applicable"
    robins_e = read_rob_table(ROBVIS / "data_robins_e.csv", "Generic")
    # ROBINS-E's "Very high" and "Some concerns" map onto the generic levels.
    assert robins_e.overall is not None
    assert robins_e.overall[2] == "Critical"
    assert robins_e.overall[0] == "Unclear"


def test_rob1_dotted_headers_become_domain_names() -> None:
    table = read_rob_table(ROBVIS / "data_rob1.csv", "ROB1")
    assert table.domains[0].name == "Random sequence generation (selection bias)"
    assert table.domains[0].header == "Random.sequence.generation"


def test_columns_can_be_named_by_code_or_domain_name_in_any_order() -> None:
    frame = pd.DataFrame(
        {
            "study": ["A"],
            "Weight": [2.5],
            "Bias in selection of the reported result": ["low"],
            "d1": ["LOW RISK"],
            "D2": ["some concerns"],
            "Bias due to missing outcome data": ["High risk of bias"],
            "D4": ["no information"],
        }
    )
    table = rob_table(frame, "ROB2")
    assert table.judgements == (("Low", "Some concerns", "High", "No information", "Low"),)
    assert table.weights == (2.5,)
    assert table.overall is None


def test_tool_lookup_and_custom_tools() -> None:
    assert rob_tool("rob 2") is ROB_TOOLS["ROB2"]
    assert rob_tool("QUADAS2") is ROB_TOOLS["QUADAS-2"]
    custom = RobTool(
        "Modified RoB 1",
        (Domain("D1", "Random sequence generation"), Domain("D2", "Power calculation")),
        (
            Judgement("Low", "#02C100", "+"),
            Judgement("Unclear", "#E2DF07", "?"),
            Judgement("High", "#BF0000", "x"),
        ),
    )
    table = rob_table(
        pd.DataFrame({"Study": ["S"], "D1": ["Low"], "Power calculation": ["unclear"]}), custom
    )
    assert table.judgements == (("Low", "Unclear"),)
    with pytest.raises(InputError, match="not a built-in risk-of-bias tool; use one of ROB2"):
        rob_tool("ROB3")


def test_colourblind_palette_replaces_cochrane_colours() -> None:
    tool = rob_tool("ROBINS-I").with_colours("colourblind")
    assert [j.colour for j in tool.judgements][:4] == ["#FED98E", "#FE9929", "#D95F0E", "#993404"]
    recoloured = rob_tool("ROB2").with_colours({"High": "black"})
    assert recoloured.judgement("high").colour == "black"
    with pytest.raises(InputError, match=r"\['Serious'\] are not judgements of RoB 2"):
        rob_tool("ROB2").with_colours({"Serious": "red"})


def _rob2(**changes: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "Study": ["Cook 2012", "Rogers 2016"],
            "D1": ["Low", "Low"],
            "D2": ["Low", "High"],
            "D3": ["Low", "Low"],
            "D4": ["Low", "Low"],
            "D5": ["Low", "Low"],
            "Overall": ["Low", "High"],
        }
    )
    for key, values in changes.items():
        frame[key] = values
    return frame


def test_unknown_judgement_names_row_study_column_and_allowed_values() -> None:
    with pytest.raises(InputError) as err:
        rob_table(_rob2(D3=["Low", "Probably low"]), "ROB2")
    message = str(err.value)
    assert "row 2 (study 'Rogers 2016'), column 'D3'" in message
    assert "'Probably low' is not a RoB 2 judgement" in message
    assert "allowed: Low, Some concerns, High, No information, Not applicable" in message


def test_empty_judgement_is_an_error_not_a_guess() -> None:
    with pytest.raises(InputError, match=r"row 1 \(study 'Cook 2012'\), column 'Overall'"):
        rob_table(_rob2(Overall=[None, "High"]), "ROB2")


def test_missing_and_unknown_columns_are_named() -> None:
    with pytest.raises(InputError, match=r"column\(s\) 'D4' missing from the RoB 2 table"):
        rob_table(_rob2().drop(columns="D4"), "ROB2")
    with pytest.raises(InputError, match="column 'D6' is not a domain of RoB 2; expected"):
        rob_table(_rob2(D6=["Low", "Low"]), "ROB2")
    with pytest.raises(InputError, match="column 'd1' repeats a domain of RoB 2"):
        rob_table(_rob2(d1=["Low", "Low"]), "ROB2")


def test_study_labels_must_be_present_and_unique() -> None:
    with pytest.raises(InputError, match="study 'Cook 2012' appears twice"):
        rob_table(_rob2(Study=["Cook 2012", "Cook 2012"]), "ROB2")
    with pytest.raises(InputError, match="row 2, column 'Study': the study label is empty"):
        rob_table(_rob2(Study=["Cook 2012", " "]), "ROB2")


def test_weights_must_be_non_negative_numbers() -> None:
    with pytest.raises(InputError, match=r"row 2 \(study 'Rogers 2016'\), column 'Weight'"):
        rob_table(_rob2(Weight=[1.0, -2.0]), "ROB2")
    with pytest.raises(InputError, match="weight 'n/a' is not allowed"):
        rob_table(_rob2(Weight=["3", "n/a"]), "ROB2")


def test_bad_sources_are_reported() -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_rob_table("/nonexistent/rob.csv")
    with pytest.raises(InputError, match="needs a study column and at least one domain"):
        rob_table(pd.DataFrame({"Study": ["A"]}), "Generic")
    with pytest.raises(InputError, match="expected a pandas DataFrame or a CSV path"):
        rob_table([["A", "Low"]], "Generic")  # type: ignore[arg-type]


def test_a_table_without_studies_is_rejected() -> None:
    with pytest.raises(InputError, match="has no studies"):
        rob_table(_rob2().iloc[0:0], "ROB2")
