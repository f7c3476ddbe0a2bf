"""The review store: a SQLAlchemy engine on SQLite (WAL) or PostgreSQL, schema migrations,
and one writer at a time across processes.

Writes go through :meth:`Store.write`, which serialises writers of every process: SQLite
starts the transaction with ``BEGIN IMMEDIATE`` (the write lock is taken before anything
is read, so a check-then-insert cannot interleave with another process and a busy database
is waited for, never reported as locked), and PostgreSQL takes a transaction-scoped
advisory lock. Readers never wait for writers (WAL on SQLite, MVCC on PostgreSQL).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:  # POSIX only; elsewhere SQLite's busy timeout alone serialises writers
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Connection, create_engine, event, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from metasift.errors import InputError, MetasiftError
from metasift.review._schema import Meta

__all__ = ["Store", "open_store"]

_MIGRATIONS = Path(__file__).parent / "migrations"
#: The newest migration in ``migrations/versions`` (a test keeps the two equal). Opening a
#: store compares its revision with this one and imports Alembic only to upgrade.
SCHEMA_REVISION = "0003"
#: Key of the PostgreSQL advisory lock that serialises writers ("msft" in ASCII).
_LOCK_KEY = 0x6D736674
_BUSY_SECONDS = 120


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": _BUSY_SECONDS})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions itself: `_begin` does, so that writers can
        # ask for BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("metasift_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Store:
    """An open review store.

    Parameters
    ----------
    url : str
        SQLAlchemy URL: ``sqlite:///path/metasift.db`` or ``postgresql+psycopg://...``.

    Notes
    -----
    Use :func:`open_store`, which also brings the schema up to date.
    """

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise InputError(f"database_url {url!r} is not a database URL") from None
        self.url = url
        self.dialect = parsed.get_backend_name()
        self._lock_path: Path | None = None
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url)
            if parsed.database and parsed.database != ":memory:":
                self._lock_path = Path(parsed.database + ".lock")
        elif self.dialect == "postgresql":
            self.engine = create_engine(url, pool_size=2, pool_recycle=1800)
        else:
            raise InputError(
                f"database_url {parsed.render_as_string(hide_password=True)!r}: only SQLite "
                "and PostgreSQL (postgresql+psycopg://...) are supported"
            )

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (a consistent snapshot)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction; one writer at a time across processes."""
        with self._file_lock(), self.engine.connect() as conn:
            conn = conn.execution_options(metasift_write=True)
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
                yield conn

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """On SQLite, queue writers on a lock file: a waiting writer starts the moment the
        lock is released, where SQLite's own busy handler polls with growing sleeps."""
        if self._lock_path is None or fcntl is None:
            yield
            return
        with self._lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def review_id(self) -> str:
        """The identifier of the review this store belongs to (written at creation)."""
        with self.read() as conn:
            value = conn.scalar(select(Meta.value).where(Meta.key == "review_id"))
        if value is None:
            raise MetasiftError("the store has no review_id; it was not created by metasift")
        return str(value)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()


def current_revision(store: Store) -> str | None:
    """The schema revision of the store, None for an empty database."""
    with store.read() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


def upgrade(store: Store) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    current = current_revision(store)
    if current == SCHEMA_REVISION:
        return
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if current is not None:
        try:
            ScriptDirectory.from_config(config).get_revision(current)
        except CommandError:
            raise MetasiftError(
                f"the store is at schema revision {current!r}, which this metasift does not "
                "know: it was written by a newer metasift; upgrade metasift"
            ) from None
    with store.write() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        if conn.scalar(select(Meta.value).where(Meta.key == "review_id")) is None:
            conn.execute(Meta.__table__.insert().values(key="review_id", value=uuid.uuid4().hex))


def open_store(url: str) -> Store:
    """Open (creating when needed) the store at ``url`` and upgrade its schema.

    Raises
    ------
    InputError
        The URL is not SQLite or PostgreSQL, or the database cannot be reached.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> store = open_store(f"sqlite:///{folder / 'metasift.db'}")
    >>> len(store.review_id())
    32
    >>> store.close()
    """
    store = Store(url)
    try:
        upgrade(store)
    except OperationalError as error:
        store.close()
        safe = make_url(url).render_as_string(hide_password=True)
        raise InputError(f"cannot open the store {safe!r}: {error.orig}".strip()) from None
    return store
