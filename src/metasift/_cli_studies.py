"""Commands on included studies: ``metasift study``, ``metasift classify`` and
``metasift appraise`` (sub-commands registered by :mod:`metasift.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from metasift import _cli_common as _cli
from metasift.errors import InputError

__all__ = ["appraise_app", "classify_app", "study_app"]

study_app = typer.Typer(
    help="Included studies and their reports.\n\nExample: `metasift study add 'Lee 2019' -r 17`",
    no_args_is_help=True,
)
classify_app = typer.Typer(
    help="Code studies on the protocol's facets, settle conflicts, agreement.\n\n"
    "Example: `metasift classify code 'Lee 2019' --coder ann setting=online`",
    no_args_is_help=True,
)
appraise_app = typer.Typer(
    help="Risk-of-bias judgements, consensus, overall ratings, robvis export.\n\n"
    "Example: `metasift appraise judge 'Lee 2019' --appraiser ann allocation_concealment=low`",
    no_args_is_help=True,
)
Folder = _cli.Folder
AsJson = _cli.AsJson
By = Annotated[str, typer.Option("--by", help="The arbiter's name.")]
Note = Annotated[str, typer.Option("--note", help="How the consensus was reached (required).")]
Outcome = Annotated[
    str | None, typer.Option("--outcome", help="Outcome (tools assessed per outcome: RoB 2).")
]


def _pairs(values: list[str], what: str) -> dict[str, str]:
    found = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{what} {value!r}: write NAME=VALUE")
        found[key.strip()] = rest.strip()
    return found


def _show(frame: pd.DataFrame, as_json: bool, title: str) -> None:
    if as_json:
        _cli._print_json(frame)
    else:
        _cli._console().print(_cli._table(frame, title))


@study_app.command("add")
@_cli.handles_errors
def study_add(
    label: Annotated[str, typer.Argument(help="Study label, e.g. 'Lee 2019'.")],
    record: Annotated[list[str] | None, typer.Option("--record", "-r", help="Report id.")] = None,
    note: Annotated[str, typer.Option(help="A note on the study.")] = "",
    folder: Folder = Path("."),
) -> None:
    """Add an included study with its reports (records).

    Example: `metasift study add "Lee 2019" --record 17 --record 42`
    """
    with _cli._review(folder) as review:
        review.add_study(label, record or [], note)
    _cli._console().print(f"Study {label}: {len(record or [])} report(s) linked.")


@study_app.command("list")
@_cli.handles_errors
def study_list(folder: Folder = Path("."), as_json: AsJson = False) -> None:
    """List the studies with their reports.

    Example: `metasift study list --json`
    """
    with _cli._review(folder) as review:
        table = review.studies()
    _show(table, as_json, f"{len(table)} studies")


@classify_app.command("code")
@_cli.handles_errors
def classify_code(
    study: Annotated[str, typer.Argument(help="Study label.")],
    codes: Annotated[list[str], typer.Argument(help="FACET=CATEGORY, one or more.")],
    coder: Annotated[str, typer.Option("--coder", help="Your name.")],
    note: Annotated[str, typer.Option(help="A note.")] = "",
    folder: Folder = Path("."),
) -> None:
    """Record your categories for a study (blind: others' codes stay hidden).

    Example: `metasift classify code "Lee 2019" setting=online format=group --coder ann`
    """
    with _cli._review(folder) as review:
        n = review.classify(coder, study, _pairs(codes, "code"), note)
    _cli._console().print(f"{study}: {n} code(s) recorded for {coder}.")


@classify_app.command("conflicts")
@_cli.handles_errors
def classify_conflicts(folder: Folder = Path("."), as_json: AsJson = False) -> None:
    """Facets on which the coders disagree.

    Example: `metasift classify conflicts --json`
    """
    with _cli._review(folder) as review:
        table = review.classification_conflicts()
    _show(table, as_json, f"{len(table)} classification conflicts")


@classify_app.command("resolve")
@_cli.handles_errors
def classify_resolve(
    study: Annotated[str, typer.Argument(help="Study label.")],
    facet: Annotated[str, typer.Argument(help="Facet.")],
    category: Annotated[str, typer.Argument(help="Agreed category.")],
    by: By,
    note: Note = "",
    folder: Folder = Path("."),
) -> None:
    """Record the consensus category of a facet, with a note.

    Example: `metasift classify resolve "Lee 2019" setting online --by dana --note "p. 4"`
    """
    with _cli._review(folder) as review:
        review.resolve_classification(study, facet, category, by, note)
    _cli._console().print(f"{study}: {facet} = {category} (consensus, {by}).")


@classify_app.command("table")
@_cli.handles_errors
def classify_table(folder: Folder = Path("."), as_json: AsJson = False) -> None:
    """Final categories per study and facet (empty while unsettled).

    Example: `metasift classify table --json`
    """
    with _cli._review(folder) as review:
        table = review.classification_table().reset_index()
    _show(table, as_json, "Classification")


@classify_app.command("agreement")
@_cli.handles_errors
def classify_agreement(
    facet: Annotated[str, typer.Argument(help="Facet.")],
    folder: Folder = Path("."),
    as_json: AsJson = False,
) -> None:
    """Agreement among coders on a facet, before consensus.

    Example: `metasift classify agreement setting`
    """
    with _cli._review(folder) as review:
        table = review.classification_agreement(facet).to_frame()
    _show(table, as_json, f"Agreement on {facet}")


@appraise_app.command("judge")
@_cli.handles_errors
def appraise_judge(
    study: Annotated[str, typer.Argument(help="Study label.")],
    appraiser: Annotated[str, typer.Option("--appraiser", help="Your name.")],
    judgements: Annotated[
        list[str] | None, typer.Argument(help="DOMAIN=JUDGEMENT, none or more.")
    ] = None,
    outcome: Outcome = None,
    answer: Annotated[
        list[str] | None,
        typer.Option("--answer", "-a", help="QUESTION=ANSWER, e.g. 1.2=PY (Y PY PN N NI NA)."),
    ] = None,
    support: Annotated[
        list[str] | None,
        typer.Option("--support", help="DOMAIN=text (or QUESTION=, overall=, limitation=)."),
    ] = None,
    overall: Annotated[str | None, typer.Option(help="Your overall judgement.")] = None,
    limitation: Annotated[
        bool | None,
        typer.Option("--limitation/--no-limitation", help="A known important limitation."),
    ] = None,
    folder: Folder = Path("."),
) -> None:
    """Record your signalling answers and domain judgements for a study (and outcome, for
    RoB 2), with supporting text. A domain answered without a judgement gets the judgement
    the tool's algorithm proposes; departing from it needs --support DOMAIN=why.

    Example: `metasift appraise judge "Lee 2019" --outcome personal_recovery -a 1.1=Y
    -a 1.2=NI -a 1.3=N --appraiser ann`
    """
    with _cli._review(folder) as review:
        n = review.appraise(
            appraiser,
            study,
            _pairs(judgements or [], "judgement"),
            _pairs(support or [], "support"),
            limitation,
            outcome=outcome,
            answers=_pairs(answer or [], "answer"),
            overall=overall,
        )
    where = f"{study} ({outcome})" if outcome else study
    _cli._console().print(f"{where}: {n} value(s) recorded for {appraiser}.", markup=False)


@appraise_app.command("questions")
@_cli.handles_errors
def appraise_questions(folder: Folder = Path("."), as_json: AsJson = False) -> None:
    """The tool's domains and signalling questions with the answers each allows.

    Example: `metasift appraise questions`
    """
    with _cli._review(folder) as review:
        tool = review.appraisal_tool
    rows = [
        {"domain": d.key, "question": q.key, "text": q.text, "asked": q.condition or "always"}
        | {"answers": " ".join(q.answers)}
        for d in tool.domains
        for q in d.questions
    ]
    columns = ["domain", "question", "text", "asked", "answers"]
    _show(pd.DataFrame(rows, columns=columns), as_json, f"{tool.name}: signalling questions")


@appraise_app.command("conflicts")
@_cli.handles_errors
def appraise_conflicts(folder: Folder = Path("."), as_json: AsJson = False) -> None:
    """Domains on which the appraisers disagree.

    Example: `metasift appraise conflicts`
    """
    with _cli._review(folder) as review:
        table = review.appraisal_conflicts()
    _show(table, as_json, f"{len(table)} risk-of-bias conflicts")


@appraise_app.command("resolve")
@_cli.handles_errors
def appraise_resolve(
    study: Annotated[str, typer.Argument(help="Study label.")],
    domain: Annotated[
        str, typer.Argument(help="Domain key, question (1.2), 'overall' or 'limitation'.")
    ],
    judgement: Annotated[str, typer.Argument(help="Agreed judgement (yes/no for limitation).")],
    by: By,
    note: Note = "",
    outcome: Outcome = None,
    folder: Folder = Path("."),
) -> None:
    """Record the consensus judgement of a domain (or the answer to a signalling question,
    or 'overall', or 'limitation'), with a note.

    Example: `metasift appraise resolve "Lee 2019" intention_to_treat low --by dana --note "ITT"`
    """
    value: str | bool = judgement
    if domain == "limitation":
        value = judgement.strip().lower() in ("yes", "true", "1")
    with _cli._review(folder) as review:
        review.resolve_appraisal(study, domain, value, by, note, outcome=outcome)
    _cli._console().print(f"{study}: {domain} = {judgement} (consensus, {by}).")


@appraise_app.command("table")
@_cli.handles_errors
def appraise_table(
    outcome: Outcome = None, folder: Folder = Path("."), as_json: AsJson = False
) -> None:
    """Final judgements per study with the overall rating (AHRQ good/fair/poor for the
    modified Cochrane tool).

    Example: `metasift appraise table --json`
    """
    with _cli._review(folder) as review:
        table = review.appraisal_table(outcome)
    _show(table, as_json, "Risk of bias")


@appraise_app.command("agreement")
@_cli.handles_errors
def appraise_agreement(
    domain: Annotated[str | None, typer.Option(help="One domain (default: all).")] = None,
    outcome: Outcome = None,
    folder: Folder = Path("."),
    as_json: AsJson = False,
) -> None:
    """Agreement among appraisers before consensus, over studies (x outcomes) x domains.

    Example: `metasift appraise agreement --domain allocation_concealment`
    """
    with _cli._review(folder) as review:
        table = review.appraisal_agreement(domain, outcome=outcome).to_frame()
    _show(table, as_json, "Risk-of-bias agreement")


@appraise_app.command("robvis")
@_cli.handles_errors
def appraise_robvis(
    output: Annotated[Path | None, typer.Option(help="CSV path (default output/).")] = None,
    outcome: Outcome = None,
    folder: Folder = Path("."),
) -> None:
    """Write the final judgements in robvis' CSV layout (RoB 2: one outcome, or every
    study and outcome).

    Example: `metasift appraise robvis --output rob.csv`
    """
    with _cli._review(folder) as review:
        path = review.write_robvis(output, outcome)
    _cli._console().print(f"Wrote {path}")


@appraise_app.command("quality")
@_cli.handles_errors
def appraise_quality(
    facet: Annotated[str, typer.Argument(help="Classification facet.")],
    outcome: Outcome = None,
    folder: Folder = Path("."),
    as_json: AsJson = False,
) -> None:
    """Overall ratings counted per category of a facet (RoB 2: of one outcome).

    Example: `metasift appraise quality setting`
    """
    with _cli._review(folder) as review:
        table = review.quality_counts(facet, outcome).reset_index()
    _show(table, as_json, f"Quality by {facet}")


@appraise_app.command("figure")
@_cli.handles_errors
def appraise_figure(
    output: Annotated[Path, typer.Argument(help="Image to write (.svg, .png or .pdf).")],
    kind: Annotated[str, typer.Option(help="traffic (per study) or summary (per domain).")] = (
        "traffic"
    ),
    outcome: Outcome = None,
    folder: Folder = Path("."),
) -> None:
    """Draw the risk-of-bias figure of the settled judgements.

    Example: `metasift appraise figure output/rob.svg --kind summary`
    """
    import matplotlib.pyplot as plt

    from metasift.plots import rob_summary, rob_traffic_light

    if kind not in ("traffic", "summary"):
        raise InputError(f"kind {kind!r}: use traffic or summary")
    with _cli._review(folder) as review:
        tool = review.appraisal_tool
        from metasift.review import appraisal

        frame = appraisal.robvis_frame(review.appraisal_table(), tool, outcome)
    draw = rob_traffic_light if kind == "traffic" else rob_summary
    figure = draw(frame, "ROB2" if tool.key == "rob2" else "Generic")
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, bbox_inches="tight")
    plt.close(figure)
    _cli._console().print(f"Wrote {output}")
