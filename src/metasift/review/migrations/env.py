"""Alembic environment: migrations run on the connection the store hands over.

The store opens the connection, holds its write lock and passes the connection in
``config.attributes["connection"]``; there is no alembic.ini and no URL here.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from metasift.review._schema import Base


def run_migrations(config: Any) -> None:
    """Run the pending revisions on the store's connection."""
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations through metasift.review.store.open_store, which passes the connection"
        )
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


try:
    _config = context.config
except AttributeError:  # imported outside an Alembic command, e.g. by doctest collection
    _config = None
if _config is not None:
    run_migrations(_config)
