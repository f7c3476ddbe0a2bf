"""Exceptions and warning classes of metasift.

Every error a user can cause is a :class:`MetasiftError` subclass whose message names the
argument, the study or the record, the value, and what is allowed. Warnings are package
classes so that they can be filtered or turned into errors one by one.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceWarning",
    "DataWarning",
    "FewStudiesWarning",
    "InputError",
    "MetasiftError",
    "MetasiftWarning",
]


class MetasiftError(Exception):
    """Base class of every error metasift raises on purpose."""


class InputError(MetasiftError, ValueError):
    """An argument, a column or a study's value is not allowed; the message says which."""


class MetasiftWarning(UserWarning):
    """Base class of metasift's warnings."""


class ConvergenceWarning(MetasiftWarning):
    """An iterative estimator stopped before reaching its tolerance."""


class FewStudiesWarning(MetasiftWarning):
    """A method is used with fewer studies than its guidance recommends."""


class DataWarning(MetasiftWarning):
    """A value is allowed but suspicious (for example an SMD beyond 2 in absolute value)."""
