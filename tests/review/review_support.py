"""Test support for the review store: a throwaway PostgreSQL server, the store backends as a
fixture, and the test review of tests/data/review.

The PostgreSQL server is started from Debian's binaries (``make postgres`` installs them)
in a temporary folder, on a free port of 127.0.0.1 with its socket in that folder, and
stopped when the test session ends. No running server is assumed. Without the binaries the
PostgreSQL tests fail with the instruction to install them; they are never skipped.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "data" / "review"
BACKENDS = ["sqlite", "postgresql"]


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl) are missing: run `make postgres` "
        "(apt-get install postgresql); the PostgreSQL tests cannot run without them",
        pytrace=False,
    )


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, run as an unprivileged user."""

    def __init__(self) -> None:
        self.bin = _binaries()
        self.root = Path(tempfile.mkdtemp(prefix="metasift-pg-"))
        self.port = _free_port()
        self.user = "metasift"
        self._as: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: run the server as Debian's postgres user.
            owner = "postgres" if _user_exists("postgres") else "nobody"
            shutil.chown(self.root, owner, owner if owner == "postgres" else None)
            self._as = ["runuser", "-u", owner, "--"]

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            pytest.fail(f"{args[0]} failed:\n{done.stdout}\n{done.stderr}\n{tail}", pytrace=False)

    def start(self) -> None:
        data = self.root / "data"
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-U",
            self.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        subprocess.run(
            [
                *self._as,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self) -> str:
        """A new, empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"review_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        # The unix socket: the tests write thousands of small transactions.
        return f"postgresql+psycopg://{self.user}@/{name}?host={self.root}&port={self.port}"


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the whole test session."""
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """ "" (SQLite in the review folder) or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


def write_protocol(folder: Path, database_url: str = "", **changes: str) -> Path:
    """The test review's protocol: the template with the years filter at 1990, no language
    filter and the given store URL; ``changes`` replace template lines verbatim."""
    from metasift.review import write_template

    path = write_template(folder, "Object-in-context recognition memory in rodents")
    text = path.read_text(encoding="utf-8")
    text = text.replace("years = { from = 1980 }", "years = { from = 1990 }")
    text = text.replace('languages = ["English"]', "languages = []")
    text = text.replace('database_url = ""', f'database_url = "{database_url}"')
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def read_csv(name: str) -> list[dict[str, str]]:
    """Rows of a CSV file of tests/data/review as dicts of text."""
    import csv

    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


class ReviewData:
    """The test review of tests/data/review: exports, known decisions and the truth."""

    def __init__(self) -> None:
        self.decisions = read_csv("decisions.csv")
        self.truth = {row["doi"]: row for row in read_csv("truth.csv")}

    def pool_ids(self, review: object, stage: str) -> dict[str, int]:
        """DOI -> id of the record that stands for it in the stage's pool."""
        records = review.records()  # type: ignore[attr-defined]
        pool = set(review.stage_table(stage)["record_id"])  # type: ignore[attr-defined]
        found: dict[str, int] = {}
        for record_id, doi in zip(records["record_id"], records["doi"], strict=True):
            if record_id in pool:
                assert doi not in found, f"two pool records for {doi}"
                found[doi] = int(record_id)
        return found

    def votes(self, stage: str, reviewer: str) -> list[dict[str, str]]:
        """The known decisions of one reviewer at one stage."""
        return [d for d in self.decisions if d["stage"] == stage and d["reviewer"] == reviewer]


def write_decisions(folder: str, reviewer: str, rounds: int, barrier: object) -> list[str]:
    """Child process of the concurrency test: ``rounds`` passes over the pool, one decision
    per record and pass, each in its own transaction; returns the last decision per record
    in pass order."""
    from metasift.review import Review

    decisions = ("include", "exclude", "maybe")
    with Review.open(folder) as review:
        pool = [int(r) for r in review.stage_table()["record_id"]]
        barrier.wait()  # type: ignore[attr-defined]
        for turn in range(rounds):
            for index, record in enumerate(pool):
                review.decide(reviewer, record, decisions[(index + turn) % 3])
    return [decisions[(index + rounds - 1) % 3] for index in range(len(pool))]
