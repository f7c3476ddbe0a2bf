"""Studies and the independent coding of study items: classification facets here, and the
same machinery for risk-of-bias judgements and extracted fields.

A study is a label ("Smith 2012") with the records (reports) that belong to it. Every value
a person gives an item of a study is an append-only event (``study_events``); the latest
event per (study, item, person) counts. Items are coded by independent coders, compared
once every coder has coded them (blind before that), and the arbiter's consensus value,
always with a note, settles a conflict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select

from metasift.errors import InputError
from metasift.review._schema import Reviewer, Study, StudyEvent, StudyReport
from metasift.review._screening import reviewer_id
from metasift.review.protocol import Protocol
from metasift.review.store import Store

__all__ = [
    "add_study",
    "classification_codes",
    "coded_items",
    "item_status",
    "record_items",
    "studies_frame",
    "study_ids",
]

#: Protocol section of each kind of event (coders and arbiter come from it).
SECTIONS = {
    "classification": "classification",
    "appraisal": "risk_of_bias",
    "extraction": "characteristics",
}


def add_study(store: Store, label: str, record_ids: Sequence[int] = (), note: str = "") -> int:
    """Add a study (label unique) with its reports; adding reports to a known label is
    allowed. Returns the study's id."""
    label = str(label).strip()
    if not label:
        raise InputError("a study needs a label, such as 'Smith 2012'")
    with store.write() as conn:
        found = conn.scalar(select(Study.id).where(Study.label == label))
        if found is None:
            found = conn.execute(
                Study.__table__.insert().values(label=label, note=note).returning(Study.id)
            ).scalar_one()
        known = set(
            conn.scalars(select(StudyReport.record_id).where(StudyReport.study_id == found))
        )
        for record in record_ids:
            if int(record) not in known:
                conn.execute(
                    StudyReport.__table__.insert().values(study_id=found, record_id=int(record))
                )
                known.add(int(record))
    return int(found)


def studies_frame(conn: Connection) -> pd.DataFrame:
    """Studies with their record ids: study_id, study, records."""
    rows = conn.execute(select(Study.id, Study.label).order_by(Study.id)).all()
    reports = conn.execute(select(StudyReport.study_id, StudyReport.record_id)).all()
    by_study: dict[int, list[int]] = {}
    for study, record in reports:
        by_study.setdefault(study, []).append(record)
    return pd.DataFrame(
        [(i, label, sorted(by_study.get(i, []))) for i, label in rows],
        columns=["study_id", "study", "records"],
    )


def study_ids(conn: Connection, labels: Sequence[str]) -> list[int]:
    """Store ids of studies by label; an :class:`InputError` names unknown labels."""
    known = {label: i for label, i in conn.execute(select(Study.label, Study.id)).all()}
    missing = [label for label in labels if label not in known]
    if missing:
        raise InputError(
            f"study {missing[0]!r} is not in the review; add it with add_study "
            f"(studies: {sorted(known)[:10]})"
        )
    return [int(known[label]) for label in labels]


def record_items(
    store: Store,
    protocol: Protocol,
    kind: str,
    study: str,
    by: str,
    items: Mapping[str, tuple[Any, str]],
    *,
    consensus: bool = False,
    origin: str = "api",
) -> int:
    """Append one event per item (value, note) by ``by``; coders code, the arbiter settles.

    Raises
    ------
    InputError
        Unknown study or person, a coder settling, an arbiter coding, or consensus
        without a note.
    """
    section = SECTIONS[kind]
    coders, arbiter = protocol.coders(section), protocol.arbiter(section)
    if consensus and by != arbiter:
        raise InputError(f"only the arbiter of [{section}] ({arbiter!r}) settles; not {by!r}")
    if not consensus and by not in coders:
        raise InputError(f"{by!r} is not a coder of [{section}]; coders are {coders}")
    if consensus and any(not note.strip() for _, note in items.values()):
        raise InputError("a consensus value needs a note saying how it was reached")
    with store.write() as conn:
        study_id = study_ids(conn, [study])[0]
        who = reviewer_id(conn, protocol, by)
        rows = [
            {
                "kind": kind,
                "study_id": study_id,
                "item": item,
                "value": json.dumps(value),
                "note": note,
                "reviewer_id": who,
                "consensus": consensus,
                "origin": origin,
            }
            for item, (value, note) in items.items()
        ]
        if rows:
            conn.execute(StudyEvent.__table__.insert(), rows)
    return len(rows)


def events_version(conn: Connection, kind: str) -> tuple[int, int]:
    """(count, largest id) of the study events of ``kind``: events are never changed or
    deleted, so an unchanged pair means unchanged events, even when concurrent writers
    commit their ids out of order."""
    row = conn.execute(
        select(func.count(StudyEvent.id), func.max(StudyEvent.id)).where(StudyEvent.kind == kind)
    ).one()
    return int(row[0]), int(row[1] or 0)


def coded_items(conn: Connection, kind: str) -> pd.DataFrame:
    """Latest event per (study, item, person, consensus): study, item, reviewer, value,
    note, consensus, created_at."""
    query = (
        select(
            Study.label,
            StudyEvent.item,
            Reviewer.name,
            StudyEvent.value,
            StudyEvent.note,
            StudyEvent.consensus,
            StudyEvent.created_at,
            StudyEvent.id,
        )
        .join(Study, Study.id == StudyEvent.study_id)
        .join(Reviewer, Reviewer.id == StudyEvent.reviewer_id)
        .where(StudyEvent.kind == kind)
        .order_by(StudyEvent.id)
    )
    columns = ["study", "item", "reviewer", "value", "note", "consensus", "created_at", "id"]
    frame = pd.DataFrame(conn.execute(query).all(), columns=columns)
    frame["value"] = frame["value"].map(json.loads)
    keys = ["study", "item", "reviewer", "consensus"]
    return frame.drop_duplicates(keys, keep="last").drop(columns="id").reset_index(drop=True)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(a)))
    return bool(a == b)


def item_status(coded: pd.DataFrame, coders: Sequence[str], by_study: bool = False) -> pd.DataFrame:
    """Per (study, item): the coders' values (only once every coder has coded it, so that
    coding stays blind), ``status`` (pending, agreed, conflict, resolved) and ``final``.

    With ``by_study`` (extraction), a coder who has extracted anything from a study is taken
    to have left its other items empty, so that a field one extractor missed is a conflict.
    """
    columns = ["study", "item", "status", "final", "note", *[f"by_{c}" for c in coders]]
    if coded.empty:
        return pd.DataFrame(columns=columns)
    # Plain dictionaries rather than a pandas groupby: a review has thousands of items and
    # a DataFrame per item cost about a millisecond each.
    started: dict[Any, set[str]] = {}
    groups: dict[tuple[Any, Any], tuple[dict[str, Any], list[tuple[Any, Any]]]] = {}
    columns_in = ("study", "item", "reviewer", "value", "note", "consensus")
    for study, item, reviewer, value, note, consensus in zip(
        *(coded[c] for c in columns_in), strict=True
    ):
        own, settled = groups.setdefault((study, item), ({}, []))
        if bool(consensus):
            settled.append((value, note))
        else:
            own[reviewer] = value
            started.setdefault(study, set()).add(reviewer)
    rows = []
    for (study, item), (own, settled) in groups.items():
        values = {c: own[c] for c in coders if c in own}
        if by_study:
            values |= {c: None for c in coders if c in started.get(study, set()) - set(values)}
        done = len(values) == len(coders)
        agreed = done and all(_same(v, next(iter(values.values()))) for v in values.values())
        if settled:
            status, final = "resolved", settled[-1][0]
            note = str(settled[-1][1])
        elif agreed:
            status, final, note = "agreed", next(iter(values.values())), ""
        else:
            status, final, note = ("conflict" if done else "pending"), None, ""
        shown = values if done or status == "resolved" else {}
        rows.append(
            {"study": study, "item": item, "status": status, "final": final, "note": note}
            | {f"by_{c}": shown.get(c) for c in coders}
        )
    return pd.DataFrame(rows, columns=columns)


def classification_codes(protocol: Protocol, codes: Mapping[str, str]) -> dict[str, str]:
    """Check codes (facet -> category) against the protocol; categories as declared."""
    facets = protocol.classification.facets
    checked = {}
    for facet, value in codes.items():
        if facet not in facets:
            raise InputError(
                f"facet {facet!r} is not in [classification.facets] of review.toml; "
                f"facets are {list(facets)}"
            )
        allowed = facets[facet].categories
        match = [c for c in allowed if c.casefold() == str(value).strip().casefold()]
        if not match:
            raise InputError(f"facet {facet!r}: category {value!r} is not one of {allowed}")
        checked[facet] = match[0]
    return checked
