"""Alembic migrations of the review store; run by :mod:`metasift.review.store`."""
