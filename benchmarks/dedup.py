"""Accuracy and speed of ``metasift.deduplicate``; speed of ``metasift.read_records`` at scale.

Accuracy: the labelled sets packaged by bib-dedupe in
../shared/benchmarks/dedup_bib-dedupe_sra_colrev/ (see its SOURCE.md): SRA sets of Rathbone
et al. 2015 (cytology_screening, respiratory) and CoLRev's digital_work and special_cases.
Metric: the record-level definition of bib-dedupe (SOURCE.md, "Metric definition"): per
true cluster of size k with m records kept, TN+1, FN+(m-1), TP+(k-m), or, when all k
vanish, FP+1, TP+(k-1); a true unique record kept is TN, removed is FP. "Possible" records
are kept (a person decides), so they count as not removed. The published figures of
bib-dedupe and ASySD (published_results/current_results_2024_asysd_ok.md) are printed
beside ours. Labels that look wrong (``DISPUTED``, see docs/records.md) are reported, and a
second line shows the figures with them corrected; the rules are not tuned to them.

Scale: ``--scale N ...`` deduplicates N records made by ``metasift.records.simulate_records``
and ``--read N ...`` reads an RIS export of N such records with 200-word abstracts. Each run
is a fresh process that loads the records from disk, so its peak memory (``ru_maxrss``) is
the memory of the step measured and not of making the data.

Run: ``.venv/bin/python benchmarks/dedup.py [--data DIR] [--scale N ...] [--read N ...]
[--profile N]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pickle
import pstats
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from metasift.records import deduplicate, read_records, simulate_records

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks"
DATA_SETS = ("cytology_screening", "respiratory", "digital_work", "special_cases")
COLUMNS = {
    "ID": "record_id",
    "author": "authors",
    "number": "issue",
    "ENTRYTYPE": "publication_type",
}
# Record pairs labelled as duplicates that the records themselves show to be distinct
# publications (docs/records.md, "Labels that look wrong").
DISPUTED = {
    "digital_work": (
        ("id_1000218", "id_1000339"),  # guest editorial vs "Editorial": other DOI, pages
        ("id_1003663", "id_1003664"),  # 2009 24(1) vs 2010 25(1): two DOIs, two volumes
        ("id_1005082", "id_1005083"),  # article vs its erratum ("Erratum to - ...")
    ),
}


def load(folder: Path) -> tuple[pd.DataFrame, list[list[str]]]:
    """Records (renamed to metasift's columns) and true duplicate clusters of one set."""
    records = pd.read_csv(folder / "records_pre_merged.csv", dtype=str, keep_default_na=False)
    records = records.rename(columns=COLUMNS).replace("", None)
    truth = pd.read_csv(folder / "merged_record_ids.csv", dtype=str)
    clusters = [row.split(";") for row in truth["merged_ids"]]
    return records, clusters


def corrected(clusters: list[list[str]], disputed: tuple[tuple[str, str], ...]) -> list[list[str]]:
    """Clusters with each disputed pair split: the second record leaves the cluster."""
    out = [list(c) for c in clusters]
    for first, second in disputed:
        for cluster in out:
            if first in cluster and second in cluster:
                cluster.remove(second)
    return [c for c in out if len(c) > 1]


def confusion(decisions: pd.DataFrame, clusters: list[list[str]]) -> dict[str, int]:
    """Record-level TP, FP, FN, TN (bib-dedupe's definition)."""
    removed = set(decisions.loc[decisions["status"].eq("duplicate"), "record_id"])
    counts = {"TP": 0, "FP": 0, "FN": 0, "TN": 0}
    in_cluster: set[str] = set()
    for cluster in clusters:
        in_cluster.update(cluster)
        kept = sum(r not in removed for r in cluster)
        if kept == 0:
            counts["FP"] += 1
            counts["TP"] += len(cluster) - 1
        else:
            counts["TN"] += 1
            counts["FN"] += kept - 1
            counts["TP"] += len(cluster) - kept
    for record_id in decisions["record_id"]:
        if record_id not in in_cluster:
            counts["FP" if record_id in removed else "TN"] += 1
    return counts


def wrong_merges(decisions: pd.DataFrame, clusters: list[list[str]]) -> int:
    """Records merged into a canonical record of another true cluster (or a unique one)."""
    label = {r: n for n, cluster in enumerate(clusters) for r in cluster}
    wrong = 0
    for record_id, canonical in zip(decisions["record_id"], decisions["canonical_id"], strict=True):
        if record_id != canonical and label.get(record_id, record_id) != label.get(
            canonical, canonical
        ):
            wrong += 1
    return wrong


def queue_hits(queue: pd.DataFrame, clusters: list[list[str]]) -> int:
    """Queued pairs that are true duplicates."""
    label = {r: n for n, cluster in enumerate(clusters) for r in cluster}
    return int(
        sum(
            label.get(a, a) == label.get(b, b)
            for a, b in zip(queue["record_id_1"], queue["record_id_2"], strict=True)
        )
    )


def metrics(result: object, clusters: list[list[str]], name: str, n: int) -> dict[str, object]:
    """One row of the accuracy table."""
    decisions, queue = result.decisions, result.queue  # type: ignore[attr-defined]
    c = confusion(decisions, clusters)
    sensitivity = c["TP"] / (c["TP"] + c["FN"]) if c["TP"] + c["FN"] else float("nan")
    precision = c["TP"] / (c["TP"] + c["FP"]) if c["TP"] + c["FP"] else float("nan")
    f1 = 2 * precision * sensitivity / (precision + sensitivity)
    return {
        "data set": name,
        "n": n,
        **c,
        "false removals": c["FP"],
        "wrong merges": wrong_merges(decisions, clusters),
        "sensitivity": round(sensitivity, 4),
        "specificity": round(c["TN"] / (c["TN"] + c["FP"]), 4),
        "precision": round(precision, 4),
        "F1": round(f1, 4),
        "queued records": int(decisions["status"].eq("possible").sum()),
        "queued pairs (true dup.)": f"{len(queue)} ({queue_hits(queue, clusters)})",
        "seconds": round(result.seconds, 2),  # type: ignore[attr-defined]
    }


def evaluate(data: Path) -> pd.DataFrame:
    """Run deduplicate on each set and return the metric table (and corrected rows)."""
    rows = []
    for name in DATA_SETS:
        records, clusters = load(data / "dedup_bib-dedupe_sra_colrev" / name)
        result = deduplicate(records)
        rows.append(metrics(result, clusters, name, len(records)))
        if name in DISPUTED:
            fixed = corrected(clusters, DISPUTED[name])
            rows.append(metrics(result, fixed, f"{name} (labels corrected)", len(records)))
    return pd.DataFrame(rows)


def published(data: Path) -> pd.DataFrame:
    """bib-dedupe and ASySD rows of published_results/current_results_2024_asysd_ok.md."""
    path = data / "dedup_bib-dedupe_sra_colrev" / "published_results"
    rows = []
    dataset = None
    text = (path / "current_results_2024_asysd_ok.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        heading = re.match(r"## (\w+)", line)
        if heading:
            dataset = heading.group(1)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if dataset and len(cells) >= 10 and cells[0] in ("bib-dedupe", "asysd"):
            rows.append(
                {
                    "data set": dataset,
                    "package": cells[0],
                    "FP": int(cells[1]),
                    "specificity": float(cells[6]),
                    "sensitivity": float(cells[7]),
                    "runtime": cells[10] if len(cells) > 10 else "",
                }
            )
    return pd.DataFrame(rows)


def side_by_side(ours: pd.DataFrame, theirs: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity / specificity / false removals per set: metasift, bib-dedupe, ASySD."""
    rows = []
    for name in DATA_SETS:
        row: dict[str, object] = {"data set": name}
        mine = ours.loc[ours["data set"] == name].iloc[0]
        row["metasift sens."] = mine["sensitivity"]
        row["metasift spec."] = mine["specificity"]
        row["metasift FP"] = mine["FP"]
        for package, label in (("bib-dedupe", "bib-dedupe"), ("asysd", "ASySD")):
            hit = theirs.loc[(theirs["data set"] == name) & (theirs["package"] == package)]
            if len(hit):
                row[f"{label} sens."] = hit["sensitivity"].iloc[0]
                row[f"{label} spec."] = hit["specificity"].iloc[0]
                row[f"{label} FP"] = hit["FP"].iloc[0]
                row[f"{label} time"] = hit["runtime"].iloc[0]
        rows.append(row)
    return pd.DataFrame(rows)


# --- scale ---------------------------------------------------------------------------


def _usage() -> tuple[float, float]:
    """(CPU seconds used so far, peak resident memory in GB) of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1e6  # ru_maxrss is in KiB


def _child(argv: list[str]) -> dict[str, object]:
    """Run one measured step in a fresh interpreter; return what it printed (a dict)."""
    command = [sys.executable, __file__, *argv]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _make(kind: str, n: int, folder: Path) -> Path:
    if kind == "dedup":
        path = folder / f"records_{n}.pkl"
        frame = simulate_records(n, seed=1)
        with path.open("wb") as handle:
            pickle.dump(frame, handle, protocol=5)
        return path
    path = folder / f"records_{n}.ris"
    frame = simulate_records(n, seed=2, abstract_words=200)
    with path.open("w", encoding="utf-8") as out:
        for row in frame.itertuples(index=False):
            out.write(_ris(row))
    return path


def _ris(row: object) -> str:
    """One record as an exporter writes it: one AU line per author, SP/EP pages."""
    get = row.__getattribute__
    lines = ["TY  - JOUR", *(f"AU  - {a}" for a in str(get("authors")).split("; "))]
    lines += [f"TI  - {get('title')}", f"T2  - {get('journal')}", f"PY  - {get('year')}"]
    for tag, name in (("VL", "volume"), ("IS", "issue"), ("DO", "doi"), ("AN", "pmid")):
        if isinstance(get(name), str):
            lines.append(f"{tag}  - {get(name)}")
    if isinstance(get("pages"), str):
        first, _, last = get("pages").partition("-")
        lines += [f"SP  - {first}"] + ([f"EP  - {last}"] if last else [])
    if isinstance(get("abstract"), str):
        lines.append(f"AB  - {get('abstract')}")
    lines += [f"DB  - {get('database')}", "ER  - ", "", ""]
    return "\n".join(lines)


def _measure_dedup(path: str) -> dict[str, object]:
    with open(path, "rb") as handle:
        frame = pickle.load(handle)
    cpu, rss_before = _usage()
    start = time.perf_counter()
    result = deduplicate(frame, progress=sys.stderr.isatty())
    seconds = time.perf_counter() - start
    cpu_after, rss = _usage()
    clusters = [g.tolist() for _, g in frame.groupby("work_id")["record_id"] if len(g) > 1]
    c = confusion(result.decisions, clusters)
    status = result.decisions["status"].value_counts()
    return {
        "records": len(frame),
        "seconds": round(seconds, 1),
        "cpu seconds": round(cpu_after - cpu, 1),
        "peak RSS GB": round(rss, 2),
        "RSS of records GB": round(rss_before, 2),
        "candidate pairs": result.n_candidate_pairs,
        "duplicates": int(status.get("duplicate", 0)),
        "possible": int(status.get("possible", 0)),
        "sensitivity": round(c["TP"] / (c["TP"] + c["FN"]), 4),
        "false removals": c["FP"],
    }


def _measure_read(path: str) -> dict[str, object]:
    cpu, _ = _usage()
    start = time.perf_counter()
    result = read_records(path, progress=sys.stderr.isatty())
    seconds = time.perf_counter() - start
    cpu_after, rss = _usage()
    return {
        "records": len(result.records),
        "file MB": round(os.path.getsize(path) / 1e6),
        "seconds": round(seconds, 1),
        "cpu seconds": round(cpu_after - cpu, 1),
        "peak RSS GB": round(rss, 2),
        "problems": len(result.problems),
    }


def _profile(n: int) -> str:
    frame = simulate_records(n, seed=1)
    profiler = cProfile.Profile()
    profiler.enable()
    deduplicate(frame)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


def _load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scale", type=int, nargs="*", default=[])
    parser.add_argument("--read", type=int, nargs="*", default=[])
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--measure-dedup", help=argparse.SUPPRESS)
    parser.add_argument("--measure-read", help=argparse.SUPPRESS)
    parser.add_argument("--make", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_dedup:
        print(json.dumps(_measure_dedup(args.measure_dedup)))
        return 0
    if args.measure_read:
        print(json.dumps(_measure_read(args.measure_read)))
        return 0
    if args.make:
        print(json.dumps({"path": str(_make(args.make[0], int(args.make[1]), Path(args.make[2])))}))
        return 0
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    if args.data and (args.data / "dedup_bib-dedupe_sra_colrev").is_dir():
        ours = evaluate(args.data)
        print("metasift.deduplicate (possible duplicates counted as kept)")
        print(ours.to_string(index=False))
        print("\nbeside the published figures (bib-dedupe output/current_results.md, 2024-09-08)")
        print(side_by_side(ours, published(args.data)).to_string(index=False))
    elif not (args.scale or args.read or args.profile):
        print(f"labelled sets not found under {args.data}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        for kind, sizes in (("dedup", args.scale), ("read", args.read)):
            for n in sizes:
                path = _child(["--make", kind, str(n), folder])["path"]
                row = _child([f"--measure-{kind}", str(path)])
                Path(str(path)).unlink()
                print(f"\n{kind} n={n} (load average {_load_average()}): {row}")
    if args.profile:
        print(_profile(args.profile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
