"""The store: migrations equal the models, SQLite in WAL mode, clear errors for bad URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from metasift.errors import InputError, MetasiftError
from metasift.review._schema import Base, Decision
from metasift.review.store import SCHEMA_REVISION, open_store


def _url(tmp_path: Path, database_url: str) -> str:
    return database_url or f"sqlite:///{tmp_path / 'metasift.db'}"


def test_migrations_create_exactly_the_models(tmp_path: Path, database_url: str) -> None:
    store = open_store(_url(tmp_path, database_url))
    try:
        with store.read() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert context.get_current_revision() == SCHEMA_REVISION
            assert compare_metadata(context, Base.metadata) == []
    finally:
        store.close()


def test_reopening_keeps_the_review_id(tmp_path: Path, database_url: str) -> None:
    url = _url(tmp_path, database_url)
    first = open_store(url)
    review_id = first.review_id()
    first.close()
    again = open_store(url)
    assert again.review_id() == review_id
    again.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = open_store(_url(tmp_path, ""))
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(Exception, match="FOREIGN KEY"), store.write() as conn:
        conn.execute(
            Decision.__table__.insert().values(
                stage="title_abstract",
                record_id=1,
                reviewer_id=1,
                decision="include",
                note="",
                origin="api",
            )
        )
    with store.read() as conn:
        assert conn.scalar(select(func.count()).select_from(Decision)) == 0
    store.close()


def test_check_constraints_guard_the_event_tables(tmp_path: Path, database_url: str) -> None:
    store = open_store(_url(tmp_path, database_url))
    with pytest.raises(Exception, match=r"(?i)check"), store.write() as conn:
        conn.execute(text("INSERT INTO reviewers (name, created_at) VALUES ('a', '2024-01-01')"))
        conn.execute(
            text(
                "INSERT INTO decisions (stage, record_id, reviewer_id, decision, note, origin, "
                "created_at) VALUES ('screening', 1, 1, 'include', '', 'api', '2024-01-01')"
            )
        )
    store.close()


def test_bad_urls_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="only SQLite and PostgreSQL"):
        open_store("mysql://user@host/db")
    with pytest.raises(InputError, match="is not a database URL"):
        open_store("not a url")
    with pytest.raises(InputError, match=r"cannot open the store 'postgresql\+psycopg://u:\*\*\*@"):
        open_store("postgresql+psycopg://u:secret@127.0.0.1:1/none?connect_timeout=2")


def test_a_store_from_a_newer_metasift_is_refused(tmp_path: Path) -> None:
    url = _url(tmp_path, "")
    store = open_store(url)
    with store.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    with pytest.raises(MetasiftError, match="written by a newer metasift"):
        open_store(url)


def test_schema_revision_constant_is_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from metasift.review import store

    config = Config()
    config.set_main_option("script_location", str(Path(store.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == store.SCHEMA_REVISION


def test_migrations_downgrade_to_an_empty_database(tmp_path: Path, database_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from metasift.review import store as store_module

    store = open_store(_url(tmp_path, database_url))
    config = Config()
    config.set_main_option(
        "script_location", str(Path(store_module.__file__).parent / "migrations")
    )
    with store.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    with store.read() as conn:
        assert inspect(conn).get_table_names() == ["alembic_version"]
    store.close()


def test_missing_postgresql_binaries_fail_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    import review_support

    monkeypatch.setattr(review_support.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(review_support.shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="run `make postgres`"):
        review_support.PostgresServer()
