"""Every export of the corpus in tests/data/records (see its README.md) reads as expected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from metasift.errors import InputError
from metasift.records import RECORD_COLUMNS, read_records

CORPUS = Path(__file__).resolve().parents[1] / "data" / "records"

# file, format, records, expected fields of the first record (values as normalised).
EXPECTED = [
    (
        "endnote_respiratory.xml",
        "endnote_xml",
        1988,
        {
            "title": "Perioperative nutritional support in patients undergoing hepatectomy "
            "for hepatocellular carcinoma",
            "authors": ["Ziegler, TR"],
            "year": 1996,
            "journal": "Jpen: Journal of Parenteral & Enteral Nutrition",
            "volume": "20",
            "pages_start": "91",
            "pages_end": "92",
        },
    ),
    (
        "endnote_ecology.xml",
        "endnote_xml",
        2,
        {"authors": ["Chapman, AG"], "year": 1937, "issn": ["0012-9658"], "pages_end": "105"},
    ),
    (
        "medline_pubmed_balloon.nbib",
        "medline",
        75,
        {
            "pmid": "30776994",
            "doi": "10.1161/strokeaha.118.021126",
            "issn": ["1524-4628", "0039-2499"],
            "journal": "Stroke",
            "database": "PubMed",
            "pages_start": "697",
        },
    ),
    (
        "pubmed_xml_easypubmed.xml",
        "pubmed_xml",
        6,
        {"pmid": "30446446", "authors": ["Fantini, D", "Seiler, R", "Meeks, JJ"], "issue": "11"},
    ),
    ("bibtex_xampl.bib", "bibtex", 36, {"authors": ["Aamport, LA"], "year": 1986}),
    (
        "ris_embase.ris",
        "ris",
        2,
        {"authors": ["Liu, R", "Adler, DG"], "database": "Embase", "publication_type": "Article"},
    ),
    (
        "ris_ovid_psycinfo.ris",
        "ris",
        2,
        {"doi": "10.1002/cpp.2398", "year": 2019, "pages_start": None, "volume": None},
    ),
    ("ris_proquest.ris", "ris", 2, {"issn": ["0894-9867"], "doi": "10.1002/jts.22387"}),
    ("ris_wos.ris", "ris", 2, {"issn": ["2211-3681", "2211-369X"], "pages_end": "397"}),
    (
        "ris_pubmed_endnote.ris",
        "ris",
        2,
        {
            "pmid": "21553931",
            "pages_start": "349",
            "pages_end": "369",
            "journal": "Clin Pharmacokinet",
        },
    ),
    ("ris_rayyan.ris", "ris", 3, {"authors": [], "issn": ["1534-5181"]}),
    ("ris_scopus_citavi.ris", "ris", 2, {"issn": ["1336-1376"], "doi": "10.15598/aeee.v16i3.2698"}),
    (
        "ris_ebsco_cinahl_cp1252_crlf.ris",
        "ris",
        2,
        {"authors": ["Müller, J", "O'Brien, S"], "pmid": "33211234", "database": "ccm"},
    ),
    ("ris_cochrane_cr_only.ris", "ris", 2, {"pmid": "29241438", "pages_end": "408"}),
    ("wos_plain.txt", "wos", 2, {"authors": ["Smith, J", "Jones, AB"], "pmid": "29241438"}),
    ("wos_tab_utf16.txt", "wos_tab", 2, {"issn": ["1075-2730", "1557-9700"], "issue": "4"}),
    ("scopus.csv", "scopus_csv", 2, {"authors": ["Smith, J", "Jones, AB"], "database": "Scopus"}),
    ("zotero.csv", "csv", 1, {"pages_end": "408", "language": "en"}),
    ("covidence.xlsx", "xlsx", 2, {"doi": "10.1176/appi.ps.201700000", "year": 2018}),
]


@pytest.mark.parametrize(("name", "fmt", "n", "first"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_corpus_file(name: str, fmt: str, n: int, first: dict[str, object]) -> None:
    result = read_records(CORPUS / name)
    assert result.formats == {name: fmt}
    assert len(result.records) == n
    assert list(result.records.columns) == list(RECORD_COLUMNS)
    record = result.records.iloc[0]
    for field, value in first.items():
        got = record[field]
        got = None if not isinstance(got, list) and pd.isna(got) else got
        assert got == value, (field, got)
    assert result.records["record_id"].is_unique
    assert result.records["source_position"].tolist() == list(range(1, n + 1))


def test_every_corpus_file_is_listed() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".md"}
    listed = {e[0] for e in EXPECTED} | {"ris_missing_er.ris", "not_an_export.txt"}
    assert files == listed


def test_respiratory_titles_match_the_benchmark_csv() -> None:
    """The EndNote XML and the CSV of the same set agree on every title and year."""
    records = read_records(CORPUS / "endnote_respiratory.xml").records
    csv = pd.read_csv(CORPUS / "dedup" / "respiratory" / "records_pre_merged.csv", dtype=str)
    assert set(records["title"]) == set(csv["title"].dropna().str.strip().str.split().str.join(" "))
    assert sorted(records["year"].astype(int)) == sorted(csv["year"].astype(int))


def test_missing_er_keeps_every_record_and_reports_it() -> None:
    result = read_records(CORPUS / "ris_missing_er.ris")
    assert result.records["title"].tolist() == [
        "First record, closed normally",
        "Second record, its ER line is missing",
        "Third record, the file ends before its ER line",
    ]
    assert [(p.record, p.field) for p in result.problems] == [(2, "record"), (3, "record")]


def test_not_an_export_says_what_was_expected() -> None:
    with pytest.raises(InputError, match=r"not_an_export\.txt: not a bibliographic export.*RIS"):
        read_records(CORPUS / "not_an_export.txt")


def test_folder_reads_every_file_with_its_own_format() -> None:
    names = ["ris_wos.ris", "wos_plain.txt", "scopus.csv"]
    result = read_records([CORPUS / n for n in names], database=None)
    assert result.records["source_file"].value_counts().to_dict() == dict.fromkeys(names, 2)
    assert set(result.records["database"]) == {"ris_wos.ris", "Web of Science", "Scopus"}
    assert "6 records, 0 problems" in result.summary()


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_records(tmp_path / "nothing.ris")
