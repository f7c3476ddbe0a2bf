"""Field normalisation, checked on the forms real exports write (see the corpus README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metasift.errors import InputError
from metasift.records import read_records, read_records_bytes, write_records
from metasift.records._normalise import (
    normalise_author,
    normalise_doi,
    normalise_issn,
    normalise_pages,
    normalise_pmid,
    split_authors,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Trindade, Ines A", "Trindade, IA"),  # Ovid PsycInfo A1
        ("Eloubeidi M.A.", "Eloubeidi, MA"),  # Embase A1
        ("Alceste, F", "Alceste, F"),  # Web of Science AU
        ("Luke, TJ", "Luke, TJ"),
        ("Zaidat, Osama O", "Zaidat, OO"),  # MEDLINE FAU
        ("Smith JA", "Smith, JA"),  # MEDLINE AU
        ("van Acker, B.", "van Acker, B"),
        ("Loftus, EV, Jr", "Loftus, EV"),
        ("Song, S.-H.", "Song, SH"),
        ("STRATIS Investigators", "STRATIS Investigators"),  # MEDLINE CN
        ("Madonna", "Madonna"),
        ("   ", None),
    ],
)
def test_author_names(raw: str, expected: str | None) -> None:
    assert normalise_author(raw) == expected


def test_author_lists() -> None:
    assert split_authors("Smith, J.; Doe, A.B.") == ["Smith, J.", "Doe, A.B."]
    assert split_authors("Zhou, X. and Lan, J. and Zhang, T.") == [
        "Zhou, X.",
        "Lan, J.",
        "Zhang, T.",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://dx.doi.org/10.1002/cpp.2398", "10.1002/cpp.2398"),
        ("doi: 10.1016/J.CHB.2020.106482", "10.1016/j.chb.2020.106482"),
        ("10.1161/STROKEAHA.118.021126 [doi]", "10.1161/strokeaha.118.021126"),
        ("https://doi.org/10.1000/xyz).", "10.1000/xyz"),
        ("ISBN 978-3-16", None),
    ],
)
def test_doi(raw: str, expected: str | None) -> None:
    assert normalise_doi(raw) == expected


def test_pmid_issn_pages() -> None:
    assert normalise_pmid("PUBMED 29241438") == "29241438"
    assert normalise_pmid("PMID: 0") is None
    assert normalise_issn(["1534-5181", "13361376", "2211-369x (Electronic)"]) == [
        "1534-5181",
        "1336-1376",
        "2211-369X",
    ]
    assert normalise_pages("1234-45") == ("1234", "1245")
    assert normalise_pages("S47-S49") == ("S47", "S49")
    assert normalise_pages("117--132") == ("117", "132")
    assert normalise_pages("Article 1586266") == ("Article 1586266", None)


def test_bad_values_are_problems_not_errors() -> None:
    data = b"TY  - JOUR\nTI  - A\nPY  - in press\nDO  - pending\nER  - \n"
    result = read_records_bytes(data, source_name="a.ris")
    assert len(result.records) == 1
    assert {(p.field, p.record) for p in result.problems} == {("year", 1), ("doi", 1)}
    assert result.problems_frame().columns.tolist() == ["file", "record", "field", "message"]


def test_column_mapping_for_generic_tables(tmp_path: Path) -> None:
    path = tmp_path / "mine.tsv"
    path.write_text("Article Name\tWho\tWhen\nPeer support\tSmith, J.\t2019\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs a title column"):
        read_records(path)
    result = read_records(path, columns={"title": "Article Name", "authors": "Who", "year": "When"})
    assert result.records.loc[0, ["title", "year"]].tolist() == ["Peer support", 2019]
    assert result.records.loc[0, "authors"] == ["Smith, J"]
    with pytest.raises(InputError, match="unknown record field 'titel'"):
        read_records(path, columns={"titel": "Article Name"})
    with pytest.raises(InputError, match="not a column of the file"):
        read_records(path, columns={"title": "Name"})


def test_writer_errors(tmp_path: Path) -> None:
    records = read_records_bytes(b"TY  - JOUR\nTI  - A\nER  - ", source_name="a.ris").records
    with pytest.raises(InputError, match=r"extension '\.xyz' unknown"):
        write_records(records, tmp_path / "out.xyz")
    with pytest.raises(InputError, match="allowed: 'ris', 'csv', 'bibtex'"):
        write_records(records, tmp_path / "out.ris", format="endnote")
    assert (
        write_records(records, tmp_path / "out.txt", format="csv")
        .read_text()
        .startswith("record_id,title")
    )


def test_legacy_xls_and_empty_files_are_refused() -> None:
    with pytest.raises(InputError, match=r"\.xls workbooks are not read"):
        read_records_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100, source_name="old.xls")
    with pytest.raises(InputError, match="empty"):
        read_records_bytes(b"  \n", source_name="e.ris")
    with pytest.raises(InputError, match="neither PubMed XML nor EndNote XML"):
        read_records_bytes(b"<html><body>hi</body></html>", source_name="page.html")
