"""Build the test review's exports and simulated decisions from the SYNERGY Sep_2021 set.

Run once from the repository root (needs ../shared/benchmarks, which the tests do not):

    .venv/bin/python tests/data/review/make_review_data.py

It writes psycinfo.ris, pubmed.nbib and citations.ris (the 271 real records of
Sep_2021, split as if found in two databases and by citation searching, 30 of them in both
databases and one citation record that repeats a database record) and decisions.csv (the
known decisions of three simulated screeners and two full-text screeners; see SOURCE.md).
It prints the counts and the agreement tables computed by hand from decisions.csv, which
tests/review/test_end_to_end.py holds as literals.
"""

from __future__ import annotations

import csv
import json
import textwrap
import zipfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = Path(__file__).parents[3].parent / "shared/benchmarks/screening_synergy_v1_subset/Sep_2021"
REASONS = [
    "Wrong population",
    "Wrong intervention",
    "Wrong comparator",
    "Wrong study design",
    "No usable outcome data",
]
CITATION_ROWS = [255, 258, 266, 268, 270]
DUPLICATED_ROW = 10  # also found by citation searching


def load() -> list[dict]:
    """Rows of Sep_2021_tiab.csv joined with their OpenAlex work (authors, journal...)."""
    with (SOURCE / "Sep_2021_tiab.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    works = {}
    with zipfile.ZipFile(SOURCE / "original/works_1.zip") as archive:
        for name in archive.namelist():
            for work in json.loads(archive.read(name)):
                works[work["id"]] = work
    for index, row in enumerate(rows):
        work = works[row["openalex_id"]]
        row["index"] = index
        row["authors"] = [a["author"]["display_name"] for a in work["authorships"]]
        row["journal"] = (work.get("host_venue") or {}).get("display_name") or ""
        row["biblio"] = work.get("biblio") or {}
        row["doi"] = row["doi"].removeprefix("https://doi.org/")
        row["pmid"] = row["pmid"].rsplit("/", 1)[-1]
        row["label"] = int(row["label_included"])
    return rows


def _last_first(name: str) -> str:
    parts = name.split()
    return f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else name


def ris(rows: list[dict]) -> str:
    """RIS as EBSCO/Ovid-style exporters write it (CRLF, "TY  - " tags)."""
    lines = []
    for row in rows:
        b = row["biblio"]
        lines += ["TY  - JOUR", f"TI  - {row['title']}"]
        lines += [f"AU  - {_last_first(a)}" for a in row["authors"]]
        lines += [f"PY  - {row['publication_year']}", f"JO  - {row['journal']}"]
        for tag, key in (
            ("VL", "volume"),
            ("IS", "issue"),
            ("SP", "first_page"),
            ("EP", "last_page"),
        ):
            if b.get(key):
                lines.append(f"{tag}  - {b[key]}")
        if row["abstract"]:
            lines.append(f"AB  - {row['abstract']}")
        lines += [f"DO  - {row['doi']}", f"AN  - {row['pmid']}", "ER  - ", ""]
    return "\r\n".join(lines)


def _wrapped(tag: str, text: str) -> list[str]:
    body = textwrap.wrap(text, 82) or [""]
    return [f"{tag:<4}- {body[0]}"] + [f"      {line}" for line in body[1:]]


def medline(rows: list[dict]) -> str:
    """PubMed format (.nbib): 4-letter tags, 6-space continuation lines."""
    lines = []
    for row in rows:
        b = row["biblio"]
        lines += [f"PMID- {row['pmid']}", *_wrapped("TI", row["title"])]
        if row["abstract"]:
            lines += _wrapped("AB", row["abstract"])
        for name in row["authors"]:
            last, _, first = _last_first(name).partition(", ")
            initials = "".join(w[0] for w in first.replace("-", " ").split() if w[0].isalpha())
            lines += [f"FAU - {last}, {first}", f"AU  - {last} {initials}"]
        lines += [f"DP  - {row['publication_year']}", f"JT  - {row['journal']}"]
        if b.get("volume"):
            lines.append(f"VI  - {b['volume']}")
        if b.get("issue"):
            lines.append(f"IP  - {b['issue']}")
        if b.get("first_page"):
            pages = b["first_page"] + (f"-{b['last_page']}" if b.get("last_page") else "")
            lines.append(f"PG  - {pages}")
        lines += [f"AID - {row['doi']} [doi]", "PT  - Journal Article", ""]
    return "\n".join(lines)


def split(rows: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """PsycInfo rows 0-159, PubMed rows 130-270 (30 in both), citations 5 rows + 1 repeat."""
    others = set(CITATION_ROWS)
    psycinfo = [r for r in rows[:160] if r["index"] not in others]
    pubmed = [r for r in rows[130:] if r["index"] not in others]
    citations = [rows[i] for i in CITATION_ROWS] + [rows[DUPLICATED_ROW]]
    return psycinfo, pubmed, citations


def _flip(decision: str) -> str:
    return "exclude" if decision == "include" else "include"


def tiab_votes(row: dict, truth: bool) -> dict[str, str]:
    """The three screeners' title/abstract decisions: the truth with known deviations."""
    i, base = row["index"], ("include" if truth else "exclude")
    ann = _flip(base) if i % 19 == 4 else base
    ben = _flip(base) if i % 23 == 7 else base
    if ben == "include" and i % 5 == 0:
        ben = "maybe"
    cleo = _flip(base) if i % 29 == 11 else base
    if cleo == "exclude" and i % 31 == 2:
        cleo = "maybe"
    return {"ann": ann, "ben": ben, "cleo": cleo}


def ft_votes(row: dict) -> dict[str, tuple[str, str]]:
    """The two full-text screeners' decisions (with reasons) and their deviations."""
    i = row["index"]
    reason = REASONS[i % 5]
    truth = ("include", "") if row["label"] else ("exclude", reason)
    ann = ("exclude", "Wrong study design") if row["label"] and i % 11 == 3 else truth
    ben = ("exclude", REASONS[(i + 1) % 5]) if not row["label"] and i % 4 == 1 else truth
    if i == 266:
        ann, ben = ("exclude", "Wrong population"), ("exclude", "Wrong intervention")
    return {"ann": ann, "ben": ben}


def main() -> None:
    rows = load()
    psycinfo, pubmed, citations = split(rows)
    (HERE / "psycinfo.ris").write_bytes(ris(psycinfo).encode("utf-8"))
    (HERE / "pubmed.nbib").write_text(medline(pubmed), encoding="utf-8")
    (HERE / "citations.ris").write_bytes(ris(citations).encode("utf-8"))
    database_rows = sorted({r["index"] for r in psycinfo + pubmed})
    early = [i for i in database_rows if int(rows[i]["publication_year"]) < 1990]
    rejected = early[-1:]  # the team keeps the 1988 record and screens it
    pool = [rows[i] for i in database_rows if i not in early or i in rejected]
    extra = {r["index"] for r in pool if not r["label"] and r["index"] % 6 == 0}
    truth = {r["index"]: bool(r["label"]) or r["index"] in extra for r in pool}
    not_retrieved = sorted(extra)[:2]
    out = []
    for row in pool:
        for who, decision in tiab_votes(row, truth[row["index"]]).items():
            out.append((row["doi"], "title_abstract", who, decision, ""))
    for row in [r for r in pool if truth[r["index"]] and r["index"] not in not_retrieved] + [
        rows[i] for i in CITATION_ROWS
    ]:
        for who, (decision, reason) in ft_votes(row).items():
            out.append((row["doi"], "full_text", who, decision, reason))
    with (HERE / "decisions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["doi", "stage", "reviewer", "decision", "reason"])
        writer.writerows(out)
    ft_rows = {r["index"] for r in pool if truth[r["index"]]} | set(CITATION_ROWS)
    with (HERE / "truth.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["doi", "title_abstract", "full_text", "reason", "retrieval", "prescreen"])
        for row in rows:
            i = row["index"]
            tiab = ("include" if truth[i] else "exclude") if i in truth else ""
            ft = ("include" if row["label"] else "exclude") if i in ft_rows else ""
            writer.writerow(
                [
                    row["doi"],
                    tiab,
                    "" if i in not_retrieved else ft,
                    REASONS[i % 5] if ft == "exclude" and i not in not_retrieved else "",
                    "not retrieved" if i in not_retrieved else "",
                    "reject" if i in rejected else ("accept" if i in early else ""),
                ]
            )
    print(f"records: psycinfo {len(psycinfo)}, pubmed {len(pubmed)}, citations {len(citations)}")
    print(
        f"early {early} rejected {rejected}; pool {len(pool)}; tiab include {sum(truth.values())}"
    )
    print(f"not retrieved {not_retrieved}")
    print(Counter(d for *_, d, _ in out))


if __name__ == "__main__":
    main()


def hand_counts() -> None:
    """Agreement tables and PRISMA counts by plain counting over decisions.csv/truth.csv."""
    with (HERE / "decisions.csv").open(encoding="utf-8") as handle:
        votes = list(csv.DictReader(handle))
    for stage, people in (
        ("title_abstract", ["ann", "ben", "cleo"]),
        ("full_text", ["ann", "ben"]),
    ):
        by_doi: dict[str, dict[str, str]] = {}
        for v in votes:
            if v["stage"] == stage:
                effective = "include" if v["decision"] == "maybe" else v["decision"]
                by_doi.setdefault(v["doi"], {})[v["reviewer"]] = effective
        n = len(by_doi)
        print(stage, "records", n)
        for a_i, a in enumerate(people):
            for b in people[a_i + 1 :]:
                table = Counter((d[a], d[b]) for d in by_doi.values())
                cells = [
                    [table[(x, y)] for y in ("include", "exclude")] for x in ("include", "exclude")
                ]
                po = (cells[0][0] + cells[1][1]) / n
                pe = (
                    (cells[0][0] + cells[0][1]) * (cells[0][0] + cells[1][0])
                    + (cells[1][0] + cells[1][1]) * (cells[0][1] + cells[1][1])
                ) / n**2
                print(f"  {a}-{b} table {cells} po {po!r} kappa {(po - pe) / (1 - pe)!r}")
        unanimous = sum(len(set(d.values())) == 1 for d in by_doi.values())
        m = len(people)
        share = sum(list(d.values()).count("include") for d in by_doi.values()) / (n * m)
        p_bar = (
            sum(
                (c * (c - 1) + (m - c) * (m - c - 1)) / (m * (m - 1))
                for c in (list(d.values()).count("include") for d in by_doi.values())
            )
            / n
        )
        p_e = share**2 + (1 - share) ** 2
        print(f"  unanimous {unanimous}/{n}; fleiss {(p_bar - p_e) / (1 - p_e)!r}")
        includes = [list(d.values()).count("include") for d in by_doi.values()]
        off_diagonal = sum(2 * c * (m - c) / (m - 1) for c in includes)
        total, n_inc = n * m, sum(includes)
        alpha = 1 - (total - 1) * off_diagonal / (2 * n_inc * (total - n_inc))
        print(f"  krippendorff alpha {alpha!r}")

    with (HERE / "truth.csv").open(encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    citation_dois = {t["doi"] for i, t in enumerate(truth) if i in CITATION_ROWS}
    for group, keep in (
        ("dbr", lambda t: t["doi"] not in citation_dois),
        ("other", lambda t: t["doi"] in citation_dois),
    ):
        rows = [t for t in truth if keep(t)]
        print(
            group,
            "sought",
            sum(t["retrieval"] != "" or t["full_text"] != "" for t in rows),
            "not retrieved",
            sum(t["retrieval"] == "not retrieved" for t in rows),
            "assessed",
            sum(t["full_text"] != "" for t in rows),
            "excluded",
            Counter(t["reason"] for t in rows if t["full_text"] == "exclude"),
            "included",
            sum(t["full_text"] == "include" for t in rows),
        )
    tiab = [t for t in truth if t["title_abstract"]]
    print(
        "screened",
        len(tiab),
        "excluded",
        sum(t["title_abstract"] == "exclude" for t in tiab),
        "prescreen",
        Counter(t["prescreen"] for t in truth),
    )


if __name__ == "__main__":
    hand_counts()
