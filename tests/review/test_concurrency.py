"""Two processes writing decisions at the same moment lose nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from review_support import DATA, write_decisions, write_protocol
from sqlalchemy import func, select

from metasift.review import Review
from metasift.review._schema import Decision

#: Passes over the 160 records per process: 2 x 7 x 160 = 2,240 decisions in all.
ROUNDS = 7


def test_two_processes_lose_no_decision(tmp_path: Path, database_url: str) -> None:
    write_protocol(tmp_path, database_url)
    with Review.open(tmp_path) as review:
        review.import_records(DATA / "psycinfo.ris", "PsycInfo")
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(2)
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        futures = {
            who: pool.submit(write_decisions, str(tmp_path), who, ROUNDS, barrier)
            for who in ("ann", "ben")
        }
        expected = {who: future.result(timeout=300) for who, future in futures.items()}
    with Review.open(tmp_path) as review:
        with review.store.read() as conn:
            total = conn.scalar(select(func.count()).select_from(Decision))
            ids = conn.scalars(select(Decision.id).order_by(Decision.id)).all()
        assert total == 2 * ROUNDS * 160
        assert len(set(ids)) == total
        for who, last in expected.items():
            assert review.decisions(who)["decision"].tolist() == last
        assert review.status().to_dict()["stages"]["title_abstract"]["reviewers"]["ann"] == {
            "assigned": 160,
            "decided": 160,
            "remaining": 0,
        }
