"""Two processes writing classification codes, risk-of-bias judgements and extracted fields
at the same moment lose nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from review_support import write_protocol
from sqlalchemy import func, select
from study_writers import expected_values, write_study_values

from metasift.review import Review
from metasift.review._schema import StudyEvent
from metasift.review.classification import coded_items

#: 2 processes x 10 passes x 10 studies x 3 values = 600 events, 300 per process.
ROUNDS = 10
STUDIES = 10

SECTIONS = """[classification]
coders = ["ann", "ben"]
arbiter = "dana"
[classification.facets.setting]
categories = ["added", "established", "independent", "online"]
[risk_of_bias]
coders = ["ann", "ben"]
arbiter = "dana"
[characteristics]
coders = ["ann", "ben"]
arbiter = "dana"
[characteristics.fields.weeks]
type = "integer"
"""


def test_two_processes_lose_no_study_value(tmp_path: Path, database_url: str) -> None:
    write_protocol(
        tmp_path,
        database_url,
        **{"[classification]\n[risk_of_bias]\n[characteristics]\n": SECTIONS},
    )
    with Review.open(tmp_path) as review:
        labels = [f"Study {i:02d}" for i in range(STUDIES)]
        for label in labels:
            review.add_study(label)
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(2)
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        futures = [
            pool.submit(write_study_values, str(tmp_path), who, ROUNDS, barrier)
            for who in ("ann", "ben")
        ]
        calls = [future.result(timeout=300) for future in futures]
    assert calls == [3 * ROUNDS * STUDIES] * 2
    with Review.open(tmp_path) as review, review.store.read() as conn:
        ids = conn.scalars(select(StudyEvent.id)).all()
        per_kind = dict(
            conn.execute(select(StudyEvent.kind, func.count()).group_by(StudyEvent.kind)).all()
        )
        latest = {
            kind: coded_items(conn, kind).set_index(["study", "reviewer"])["value"]
            for kind in ("classification", "appraisal", "extraction")
        }
    assert len(ids) == len(set(ids)) == 2 * 3 * ROUNDS * STUDIES
    assert per_kind == dict.fromkeys(latest, 2 * ROUNDS * STUDIES)
    for index, label in enumerate(labels):
        setting, judgement, weeks = expected_values(index, ROUNDS - 1)
        for who in ("ann", "ben"):
            assert latest["classification"][label, who] == setting
            assert latest["appraisal"][label, who] == judgement
            assert latest["extraction"][label, who] == weeks
