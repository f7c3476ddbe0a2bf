"""``metasift``: the command line of a review (Typer, rich tables).

Every command works on the review folder given by ``--folder`` (default: the current
folder) and prints an error without a traceback for any mistake in the input.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer

from metasift import _cli_extract, _cli_screen, _cli_studies
from metasift._cli_common import (
    AsJson,
    Folder,
    _console,
    _fail,
    _plain,
    _print_json,
    _review,
    _table,
    handles_errors,
)
from metasift._vocabulary import STAGES

if TYPE_CHECKING:
    from metasift.review import Review

__all__ = ["app"]

app = typer.Typer(
    name="metasift",
    help="Systematic reviews with meta-analysis, from a review folder.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    pretty_exceptions_enable=False,
)

Stage = Annotated[
    str, typer.Option("--stage", "-s", help=f"Screening stage: {' or '.join(STAGES)}.")
]


@app.command()
@handles_errors
def init(
    folder: Annotated[Path, typer.Argument(help="Folder of the new review.")] = Path("."),
    title: Annotated[str, typer.Option(help="Title of the review.")] = "Untitled review",
) -> None:
    """Start a review: write a commented **review.toml** and create the store.

    Edit review.toml (team, databases, eligibility, screening stages) before importing.

    Example: `metasift init peer-support --title "Peer support for adults with mental illness"`
    """
    from metasift.review import Review

    existed = (folder / "review.toml").exists()
    with Review.create(folder, title) as review:
        where = review.store.dialect
    done = "Found" if existed else "Wrote"
    _console().print(
        f"{done} {folder / 'review.toml'}; the store ({where}) is ready. Edit review.toml, "
        "then run `metasift import FILE --database NAME`."
    )


@app.command("import")
@handles_errors
def import_(
    files: Annotated[list[Path], typer.Argument(help="Export files of one database.")],
    database: Annotated[
        str, typer.Option("--database", "-d", help="Name of a [[databases]] entry.")
    ],
    folder: Folder = Path("."),
    as_json: AsJson = False,
) -> None:
    """Import the exports of one database search (RIS, PubMed, EndNote XML, BibTeX, Web of
    Science, Scopus, CSV, XLSX); the format is detected from the content.

    Example: `metasift import pubmed-2024-01-31.nbib --database PubMed`
    """
    with _review(folder) as review, _console().status(f"Reading {len(files)} export(s)..."):
        result = review.import_records(files, database)
    if as_json:
        _print_json(result.files)
        return
    console = _console()
    console.print(_table(result.files.drop(columns=["source_id"]), "Imported"))
    if len(result.problems):
        console.print(_table(result.problems.head(50), "Problems (records were kept)"))


@app.command()
@handles_errors
def dedup(
    review_pairs: Annotated[
        bool, typer.Option("--review", help="Go through the possible duplicate pairs.")
    ] = False,
    by: Annotated[str | None, typer.Option(help="Your name, with --review.")] = None,
    folder: Folder = Path("."),
    as_json: AsJson = False,
) -> None:
    """Find duplicate records across all imports (nothing is deleted) and show the counts;
    with --review, decide the possible duplicates one pair at a time (y / n / s / q).

    Example: `metasift dedup`, then `metasift dedup --review --by ann`
    """
    if review_pairs and by is None:
        _fail("--review needs --by NAME (who decides the pairs)")
    with _review(folder) as review:
        with _console().status("Looking for duplicates..."):
            status = review.status()
            if not review_pairs or status.dedup["not_deduplicated"]:
                summary = review.deduplicate()
            else:
                summary = review.dedup_summary()
        if review_pairs:
            _cli_screen.dedup_loop(_console(), review, str(by))
            summary = review.dedup_summary()
    if as_json:
        _print_json(
            {
                "counts": json.loads(summary.counts.to_json(orient="records")),
                "pairs_to_review": len(summary.queue),
            }
        )
        return
    console = _console()
    console.print(_table(summary.counts, "Records and duplicates per database"))
    console.print(f"{len(summary.queue)} possible duplicate pairs to review.")


@app.command()
@handles_errors
def prefilter(
    accept: Annotated[
        list[str] | None, typer.Option(help="Record to exclude before screening.")
    ] = None,
    reject: Annotated[list[str] | None, typer.Option(help="Record to keep for screening.")] = None,
    accept_all: Annotated[bool, typer.Option(help="Accept every pending proposal.")] = False,
    by: Annotated[str | None, typer.Option(help="Your name (to answer proposals).")] = None,
    note: Annotated[str, typer.Option(help="Why.")] = "",
    folder: Folder = Path("."),
    as_json: AsJson = False,
) -> None:
    """List the records that the protocol's years or languages propose to exclude before
    screening, and answer the proposals; nothing is excluded without an answer.

    Example: `metasift prefilter`, then `metasift prefilter --accept-all --reject 17 --by dana`
    """
    if (accept or reject or accept_all) and by is None:
        _fail("answering proposals needs --by NAME")
    with _review(folder) as review:
        if accept or reject or accept_all:
            who = str(by)
            if reject:
                review.answer_prefilter(list(reject), False, who, note)
            if accept:
                review.answer_prefilter(list(accept), True, who, note)
            if accept_all:
                review.answer_prefilter(None, True, who, note)
        table = review.prefilter()
    if as_json:
        _print_json(table)
        return
    _console().print(_table(table, "Pre-screening proposals"))


@app.command()
@handles_errors
def screen(
    reviewer: Annotated[str, typer.Option("--reviewer", "-r", help="Your name.")],
    stage: Stage = "title_abstract",
    export: Annotated[
        Path | None, typer.Option("--export", help="Write your sheet (.xlsx or .csv).")
    ] = None,
    import_sheet: Annotated[
        Path | None, typer.Option("--import", help="Read back a filled sheet.")
    ] = None,
    folder: Folder = Path("."),
) -> None:
    """Screen your records one at a time: title and abstract with the protocol's keywords
    highlighted; keys i (include), e (exclude, then a reason),
    m (maybe), s (skip), q (quit). It resumes at your next
    undecided record. Others' decisions are never shown.

    Or screen in a spreadsheet: --export a sheet, fill the decision column, --import it.

    Example: `metasift screen --reviewer ann`

    Example: `metasift screen -r ben --export ben.xlsx`, then fill it in and
    `metasift screen -r ben --import ben.xlsx`
    """
    console = _console()
    with _review(folder) as review:
        if export is not None:
            path = review.export_sheet(reviewer, export, stage)
            console.print(f"Wrote {path} ({len(review.queue(reviewer, stage))} undecided).")
        elif import_sheet is not None:
            result = review.import_sheet(import_sheet, reviewer, stage)
            console.print(result.summary(), markup=False)
        else:
            _cli_screen.screen_loop(console, review, reviewer, stage)


def _wide_conflicts(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return pd.DataFrame(columns=["record_id", "title"])
    cells = table.assign(
        vote=table["decision"]
        + table["reason"].map(lambda r: f" ({r})" if isinstance(r, str) and r else "")
    )
    wide = cells.pivot(index="record_id", columns="reviewer", values="vote")
    titles = table.drop_duplicates("record_id").set_index("record_id")["title"]
    return wide.assign(title=titles.str.slice(0, 70)).reset_index()


@app.command()
@handles_errors
def conflicts(
    stage: Stage = "title_abstract", folder: Folder = Path("."), as_json: AsJson = False
) -> None:
    """List the records on which the screeners disagree, with each decision: the
    arbiter's work list.

    Example: `metasift conflicts --stage full_text`
    """
    with _review(folder) as review:
        table = review.conflicts(stage)
    if as_json:
        _print_json(table)
        return
    wide = _wide_conflicts(table)
    _console().print(_table(wide, f"{len(wide)} conflicts at {stage}"))


@app.command()
@handles_errors
def resolve(
    by: Annotated[str, typer.Option("--by", help="The arbiter's name.")],
    record: Annotated[str | None, typer.Argument(help="Record id; omit to go through all.")] = None,
    decision: Annotated[str | None, typer.Option(help="include or exclude.")] = None,
    note: Annotated[str, typer.Option(help="Why (required).")] = "",
    reason: Annotated[str | None, typer.Option(help="Exclusion reason.")] = None,
    amend: Annotated[bool, typer.Option(help="Correct an earlier decision.")] = False,
    stage: Stage = "title_abstract",
    folder: Folder = Path("."),
) -> None:
    """Settle conflicts as the stage's arbiter, with a note. Without a record, go through
    every conflict (keys i / e / s / q, then a note).

    Example: `metasift resolve 17 --decision include --note "meets PICO" --by dana`

    Example: `metasift resolve --by dana --stage full_text`
    """
    if record is not None and decision is None:
        _fail("give --decision include or --decision exclude")
    with _review(folder) as review:
        if record is None:
            _cli_screen.resolve_loop(_console(), review, by, stage)
            return
        review.resolve(record, str(decision), by, note, stage, reason, amend)
    _console().print(f"Record {record}: {decision} at {stage}, by {by}.")


def _agreement_rows(review: Review) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for stage in review.protocol.stages():
        ratings = review.ratings(stage)
        if len(ratings) and ratings.shape[1] >= 2:
            frame = review.agreement(stage).to_frame()
            rows += [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]
    return rows


@app.command()
@handles_errors
def status(folder: Folder = Path("."), as_json: AsJson = False) -> None:
    """Where the review stands: records, duplicates, proposals, progress of every
    reviewer, and agreement per stage before the arbiter's decisions.

    Example: `metasift status --json`
    """
    with _review(folder) as review:
        state = review.status()
        agreement = _agreement_rows(review)
    if as_json:
        _print_json({**state.to_dict(), "agreement": agreement})
        return
    console = _console()
    console.print(state.summary(), markup=False)
    if agreement:
        frame = pd.DataFrame(agreement)[
            ["stage", "statistic", "reviewer_1", "reviewer_2", "n", "estimate", "ci_lb", "ci_ub"]
        ]
        console.print(_table(frame, "Agreement before arbitration"))


@app.command()
@handles_errors
def prisma(
    out: Annotated[
        Path | None, typer.Option(help="CSV to write (default output/PRISMA.csv).")
    ] = None,
    folder: Folder = Path("."),
    as_json: AsJson = False,
) -> None:
    """Write the PRISMA 2020 counts, derived from the store, as the PRISMA2020 package's
    CSV (for its R functions and Shiny app).

    Example: `metasift prisma --out output/PRISMA.csv`
    """
    with _review(folder) as review:
        flow = review.prisma()
        target = out if out is not None else review.folder / "output" / "PRISMA.csv"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = flow.write_csv(target)
    if as_json:
        _print_json({**flow.as_dict(), "pending": flow.pending, "csv": str(path)})
        return
    console = _console()
    console.print(flow.summary(), markup=False)
    for warning in caught:
        console.print(f"[yellow]Note:[/yellow] {warning.message}")
    console.print(f"Wrote {path}")


@app.command("stage")
@handles_errors
def stage_command(
    action: Annotated[str, typer.Argument(help="close or reopen.")],
    name: Annotated[str, typer.Argument(help="title_abstract or full_text.")],
    by: Annotated[str, typer.Option("--by", help="The stage's arbiter.")],
    note: Annotated[str, typer.Option(help="Why.")] = "",
    folder: Folder = Path("."),
) -> None:
    """Close a stage when every record has a final decision (no more decisions), or
    reopen it with a note.

    Example: `metasift stage close title_abstract --by dana`
    """
    with _review(folder) as review:
        if action == "close":
            review.close_stage(name, by, note)
        elif action == "reopen":
            review.reopen_stage(name, by, note)
        else:
            _fail(f"action {action!r}: use close or reopen")
    _console().print(f"Stage {name}: {action}d by {by}.")


@app.command("retrieval")
@handles_errors
def retrieval(
    records: Annotated[list[str], typer.Argument(help="Record ids.")],
    by: Annotated[str, typer.Option("--by", help="Your name.")],
    missing: Annotated[
        bool, typer.Option("--missing/--found", help="Full text not obtained / obtained.")
    ] = True,
    note: Annotated[str, typer.Option(help="What was tried.")] = "",
    folder: Folder = Path("."),
) -> None:
    """Record that full texts could not be obtained (PRISMA "reports not retrieved"), or
    were found after all.

    Example: `metasift retrieval 17 42 --missing --note "no library access" --by dana`
    """
    with _review(folder) as review:
        review.mark_retrieval(records, not missing, by, note)
    _console().print(f"{len(records)} records marked {'not retrieved' if missing else 'found'}.")


@app.command("run")
@handles_errors
def run(
    folder: Annotated[Path, typer.Argument(help="Review folder.")] = Path("."),
    output: Annotated[
        Path | None, typer.Option(help="Output folder (default FOLDER/output).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Rebuild every output of the review from its folder: run the analysis plan of
    review.toml, write the tables (CSV, JSON, XLSX) and the HTML report.

    Example: `metasift run examples/peer-support`
    """
    from metasift.report.run import run_review  # the analysis stack loads only here

    done = run_review(folder, output=output)
    main = done.results.pooled_effects()
    main = main[main["facet"] == "all"]
    if as_json:
        _print_json({"main": _json_rows(main), "paths": [str(p) for p in done.paths]})
        return
    console = _console()
    console.print(_table(_main_rows(main), "Main analysis of each outcome"))
    console.print(f"Wrote {len(done.tables)} table files to {done.output / 'tables'}")
    if done.report is not None:
        console.print(f"Report: {done.report}")


def _main_rows(main: pd.DataFrame) -> pd.DataFrame:
    """The main analyses as short text: k, N, estimate with its CI, p, I^2."""
    rows = []
    for row in main.to_dict("records"):
        shown = {"outcome": row["outcome"], "stratum": row["stratum"], "k": row["k"]}
        shown["N"] = "" if pd.isna(row["n"]) else f"{row['n']:,.0f}"
        if shown["N"] and row["n_unknown"]:
            shown["N"] = "≥" + shown["N"]  # some comparisons have no group sizes
        if row["status"] != "pooled":
            rows.append(shown | {"estimate (CI)": "not applicable", "p": "", "I2": ""})
            continue
        estimate = f"{row['estimate']:.2f} ({row['ci_lb']:.2f} to {row['ci_ub']:.2f})"
        p = "<0.001" if row["pval"] < 0.001 else f"{row['pval']:.3f}"
        rows.append(shown | {"estimate (CI)": estimate, "p": p, "I2": f"{100 * row['i2']:.0f}%"})
    return pd.DataFrame(rows)


def _json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


app.add_typer(_cli_studies.study_app, name="study")
app.add_typer(_cli_studies.classify_app, name="classify")
app.add_typer(_cli_studies.appraise_app, name="appraise")
app.add_typer(_cli_extract.extract_app, name="extract")


def main() -> None:  # pragma: no cover - console entry point
    """Run the command line."""
    app()
