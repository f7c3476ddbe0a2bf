"""Names of the screening vocabulary, shared by the review layer and the command line, in
a module without imports so that the command line can show them without loading the review
layer (whose package imports all of it)."""

from __future__ import annotations

__all__ = ["DECISIONS", "STAGES"]

#: Screening stages, in order.
STAGES: tuple[str, ...] = ("title_abstract", "full_text")
#: Decisions a reviewer can record.
DECISIONS: tuple[str, ...] = ("include", "exclude", "maybe")
