"""``metasift extract``: offline extraction workbooks, field-level conflicts, adjudication,
data availability and the analysable table of an outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from metasift import _cli_common as _cli

__all__ = ["extract_app"]

extract_app = typer.Typer(
    help="Data extraction: workbooks or CSV folders, conflicts, adjudication, the analysable "
    "table.\n\n"
    "Example: `metasift extract export ann.xlsx --extractor ann`",
    no_args_is_help=True,
)
Folder = _cli.Folder
AsJson = _cli.AsJson
Extractor = Annotated[str, typer.Option("--extractor", help="Your name.")]


@extract_app.command("export")
@_cli.handles_errors
def extract_export(
    path: Annotated[
        Path, typer.Argument(help="Workbook to write (.xlsx), or a folder for one CSV per table.")
    ],
    extractor: Extractor,
    folder: Folder = Path("."),
) -> None:
    """Write your extraction workbook: one tab per table, drop-down lists, instructions
    (or, for a path without a suffix, a folder with one CSV file per table and README.txt).

    Example: `metasift extract export ann.xlsx --extractor ann`
    """
    with _cli._review(folder) as review:
        written = review.export_extraction_sheet(extractor, path)
    _cli._console().print(f"Wrote {written}")


@extract_app.command("import")
@_cli.handles_errors
def extract_import(
    path: Annotated[Path, typer.Argument(help="Filled workbook (.xlsx) or CSV folder.")],
    extractor: Extractor,
    folder: Folder = Path("."),
) -> None:
    """Import your filled workbook or CSV folder; a bad row anywhere means nothing is
    recorded.

    Example: `metasift extract import ann.xlsx --extractor ann`
    """
    with _cli._review(folder) as review:
        result = review.import_extraction_sheet(extractor, path)
    _cli._console().print(result.summary(), markup=False)


@extract_app.command("conflicts")
@_cli.handles_errors
def extract_conflicts(folder: Folder = Path("."), as_json: AsJson = False) -> None:
    """Fields on which the extractors differ.

    Example: `metasift extract conflicts --json`
    """
    with _cli._review(folder) as review:
        table = review.extraction_conflicts()
    if as_json:
        _cli._print_json(table)
    else:
        _cli._console().print(_cli._table(table, f"{len(table)} extraction conflicts"))


@extract_app.command("resolve")
@_cli.handles_errors
def extract_resolve(
    study: Annotated[str, typer.Argument(help="Study label.")],
    item: Annotated[str, typer.Argument(help="Field path, e.g. value|OUTCOME|ARM|sd.")],
    value: Annotated[str, typer.Argument(help="The agreed value (JSON or text).")],
    by: Annotated[str, typer.Option("--by", help="The arbiter's name.")],
    note: Annotated[str, typer.Option(help="Where the value comes from (required).")] = "",
    folder: Folder = Path("."),
) -> None:
    """Record the agreed value of one field, with a note.

    Example: `metasift extract resolve "Lee 2019" "value|personal|tau|sd" 6.0 --by dana
    --note "table 2"`
    """
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    with _cli._review(folder) as review:
        review.resolve_extraction(study, item, parsed, by, note)
    _cli._console().print(f"{study}: {item} = {value} (consensus, {by}).")


@extract_app.command("availability")
@_cli.handles_errors
def extract_availability(folder: Folder = Path("."), as_json: AsJson = False) -> None:
    """Data availability per study and outcome (usable, requested, not obtainable).

    Example: `metasift extract availability --json`
    """
    with _cli._review(folder) as review:
        table = review.availability_table()
    if as_json:
        _cli._print_json(table)
    else:
        _cli._console().print(_cli._table(table, "Data availability"))


@extract_app.command("table")
@_cli.handles_errors
def extract_table(
    outcome: Annotated[str, typer.Argument(help="Outcome of review.toml.")],
    measure: Annotated[str, typer.Option(help="SMD, MD, OR, RR or RD.")] = "SMD",
    multi_arm: Annotated[
        str | None, typer.Option(help="combine or split (default: [analysis] multi_arm).")
    ] = None,
    effects: Annotated[
        str | None,
        typer.Option(help="arms or reported: which a study's effect comes from first."),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Also write the table as CSV.")] = None,
    folder: Folder = Path("."),
    as_json: AsJson = False,
) -> None:
    """The analysable table of an outcome (yi, vi, raw columns, categories, quality) and
    the checks made before pooling.

    Example: `metasift extract table personal_recovery --output output/personal.csv`
    """
    with _cli._review(folder) as review:
        result = review.extraction_table(outcome, measure, multi_arm, effects)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        result.data.to_csv(output, index=False)
    if as_json:
        _cli._print_json(result.data)
        return
    console = _cli._console()
    console.print(_cli._table(result.data, result.summary().splitlines()[0]))
    if len(result.checks):
        console.print(_cli._table(result.checks, "Checks before pooling"))


@extract_app.command("settle")
@_cli.handles_errors
def extract_settle(
    outcome: Annotated[str, typer.Argument(help="Outcome of review.toml.")],
    by: Annotated[str, typer.Option("--by", help="Your name (a team member).")],
    note: Annotated[str, typer.Option(help="A note on the decision.")] = "",
    multi_arm: Annotated[
        str | None, typer.Option(help="combine or split (default: [analysis] multi_arm).")
    ] = None,
    measure: Annotated[str, typer.Option(help="SMD, MD, OR, RR or RD.")] = "SMD",
    folder: Folder = Path("."),
    as_json: AsJson = False,
) -> None:
    """Record in the store how each multi-arm study's arms become the outcome's
    comparisons (arms combined or control split, Handbook formula, inputs and results).

    Example: `metasift extract settle personal_recovery --by dana --note "as planned"`
    """
    with _cli._review(folder) as review:
        table = review.settle_multi_arm(outcome, by, note, measure=measure, multi_arm=multi_arm)
    if as_json:
        _cli._print_json(table)
    else:
        studies = table["study"].nunique()
        _cli._console().print(_cli._table(table, f"{outcome}: {studies} multi-arm studies"))


@extract_app.command("audit")
@_cli.handles_errors
def extract_audit(
    outcome: Annotated[str, typer.Argument(help="Outcome of review.toml.")],
    comparisons: Annotated[
        bool, typer.Option("--comparisons", help="The settled comparisons, not the audit rows.")
    ] = False,
    folder: Folder = Path("."),
    as_json: AsJson = False,
) -> None:
    """The settled multi-arm trail of an outcome, as stored.

    Example: `metasift extract audit personal_recovery --comparisons --json`
    """
    with _cli._review(folder) as review:
        table = review.multi_arm_audit(outcome, "comparisons" if comparisons else "audit")
    if as_json:
        _cli._print_json(table)
    else:
        _cli._console().print(_cli._table(table, f"{outcome}: settled multi-arm trail"))
