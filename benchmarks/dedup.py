"""Accuracy and speed of ``metasift.deduplicate`` on the labelled sets packaged by bib-dedupe.

Data: ../shared/benchmarks/dedup_bib-dedupe_sra_colrev/ (see its SOURCE.md): SRA sets of
Rathbone et al. 2015 (cytology_screening, respiratory) and CoLRev's digital_work and
special_cases. Metric: the record-level definition of bib-dedupe (SOURCE.md, "Metric
definition"): per true cluster of size k with m records kept, TN+1, FN+(m-1), TP+(k-m), or,
when all k vanish, FP+1, TP+(k-1); a true unique record kept is TN, removed is FP.
"Possible" records are kept (a person decides), so they count as not removed.

Run: ``.venv/bin/python benchmarks/dedup.py [--data DIR] [--scale N]``. ``--scale N`` also
times a synthetic set of N records built from the labelled sets with typical export noise.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

import pandas as pd

from metasift.records import deduplicate

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks"
DATA_SETS = ("cytology_screening", "respiratory", "digital_work", "special_cases")
COLUMNS = {
    "ID": "record_id",
    "author": "authors",
    "number": "issue",
    "ENTRYTYPE": "publication_type",
}


def load(folder: Path) -> tuple[pd.DataFrame, list[list[str]]]:
    """Records (renamed to metasift's columns) and true duplicate clusters of one set."""
    records = pd.read_csv(folder / "records_pre_merged.csv", dtype=str, keep_default_na=False)
    records = records.rename(columns=COLUMNS).replace("", None)
    truth = pd.read_csv(folder / "merged_record_ids.csv", dtype=str)
    clusters = [row.split(";") for row in truth["merged_ids"]]
    return records, clusters


def confusion(decisions: pd.DataFrame, clusters: list[list[str]]) -> dict[str, int]:
    """Record-level TP, FP, FN, TN (bib-dedupe's definition) and false removals."""
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


def queue_hits(queue: pd.DataFrame, clusters: list[list[str]]) -> tuple[int, int]:
    """(queued pairs that are true duplicates, queued pairs)."""
    label = {r: n for n, cluster in enumerate(clusters) for r in cluster}
    hits = sum(
        label.get(a, a) == label.get(b, b)
        for a, b in zip(queue["record_id_1"], queue["record_id_2"], strict=True)
    )
    return int(hits), len(queue)


def published(data: Path) -> pd.DataFrame:
    """bib-dedupe and ASySD rows of published_results/evaluation.csv (latest run per set)."""
    path = (
        data
        / "dedup_bib-dedupe_sra_colrev"
        / "published_results"
        / "current_results_2024_asysd_ok.md"
    )
    rows = []
    dataset = None
    for line in path.read_text(encoding="utf-8").splitlines():
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
                    "sensitivity": float(cells[7]),
                    "precision": float(cells[8]),
                    "F1": float(cells[9]),
                    "runtime": cells[10] if len(cells) > 10 else "",
                }
            )
    return pd.DataFrame(rows)


def evaluate(data: Path) -> pd.DataFrame:
    """Run deduplicate on each set and return the metric table."""
    rows = []
    for name in DATA_SETS:
        records, clusters = load(data / "dedup_bib-dedupe_sra_colrev" / name)
        result = deduplicate(records)
        c = confusion(result.decisions, clusters)
        sensitivity = c["TP"] / (c["TP"] + c["FN"]) if c["TP"] + c["FN"] else float("nan")
        precision = c["TP"] / (c["TP"] + c["FP"]) if c["TP"] + c["FP"] else float("nan")
        hits, queued = queue_hits(result.queue, clusters)
        rows.append(
            {
                "data set": name,
                "n": len(records),
                **c,
                "false removals": c["FP"],
                "wrong merges": wrong_merges(result.decisions, clusters),
                "sensitivity": round(sensitivity, 4),
                "specificity": round(c["TN"] / (c["TN"] + c["FP"]), 4),
                "precision": round(precision, 4),
                "F1": round(2 * precision * sensitivity / (precision + sensitivity), 4),
                "queue (true dup.)": f"{queued} ({hits})",
                "seconds": round(result.seconds, 2),
            }
        )
    return pd.DataFrame(rows)


def synthetic(data: Path, n: int, seed: int = 1) -> pd.DataFrame:
    """n records made from the labelled sets: copies with case, punctuation, author-initial,
    missing-DOI and typo changes, and journal abbreviations, about one third duplicates."""
    rng = random.Random(seed)
    frames = [load(data / "dedup_bib-dedupe_sra_colrev" / s)[0] for s in DATA_SETS[:3]]
    base = pd.concat(frames, ignore_index=True)
    base = base[base["title"].notna()].to_dict("records")
    rows = []
    while len(rows) < n:
        record = dict(rng.choice(base))
        record["title"] = f"{record['title']} {rng.randrange(10**6)}"
        rows.append(record)
        for _ in range(rng.choice((0, 0, 1, 2))):
            copy = dict(record)
            title = copy["title"]
            if rng.random() < 0.5:
                title = title.upper() if rng.random() < 0.3 else title.lower()
            if rng.random() < 0.3 and len(title) > 10:
                k = rng.randrange(len(title) - 1)
                title = title[:k] + title[k + 1] + title[k] + title[k + 2 :]
            copy["title"] = title.replace(":", " -") if rng.random() < 0.3 else title
            if isinstance(copy.get("authors"), str) and rng.random() < 0.5:
                copy["authors"] = re.sub(r", (\w)\w+", r", \1.", copy["authors"])
            if rng.random() < 0.5:
                copy["doi"] = None
            if isinstance(copy.get("journal"), str) and rng.random() < 0.3:
                copy["journal"] = " ".join(w[:4] for w in copy["journal"].split())
            rows.append(copy)
    frame = pd.DataFrame(rows[:n])
    frame["record_id"] = [f"s{k}" for k in range(len(frame))]
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scale", type=int, nargs="*", default=[])
    args = parser.parse_args(argv)
    if not (args.data / "dedup_bib-dedupe_sra_colrev").is_dir():
        print(f"labelled sets not found under {args.data}", file=sys.stderr)
        return 1
    pd.set_option("display.width", 200)
    print("metasift.deduplicate (possible duplicates counted as kept)")
    print(evaluate(args.data).to_string(index=False))
    print("\npublished figures (bib-dedupe output/current_results.md, 2024-09-08)")
    print(published(args.data).to_string(index=False))
    for n in args.scale:
        frame = synthetic(args.data, n)
        start = time.perf_counter()
        result = deduplicate(frame)
        seconds = time.perf_counter() - start
        status = result.decisions["status"].value_counts().to_dict()
        print(f"\nsynthetic n={n}: {seconds:.1f} s, {result.n_candidate_pairs} pairs, {status}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
