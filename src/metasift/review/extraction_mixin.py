"""Data extraction as methods of :class:`~metasift.review.Review`: characteristics, arms,
values, precomputed effects and data availability by independent extractors, field-level
comparison, adjudication and the analysable table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from metasift.errors import InputError
from metasift.review import classification, extraction, extraction_sheets, multi_arm_audit
from metasift.review.extraction_table import ExtractionTable, extraction_table
from metasift.review.protocol import Protocol
from metasift.review.store import Store

__all__ = ["ExtractionWork"]


def _effect_field(field: str, value: Any, where: str) -> Any:
    """One field of a precomputed effect, checked as :func:`extraction.effect_items` does."""
    if field == "measure":
        return str(value or "").strip().upper() or None
    if field == "unit":
        return str(value or "").strip() or None
    if field not in extraction.EFFECT_FIELDS:
        raise InputError(f"{where}: {field!r} is not an effect field {extraction.EFFECT_FIELDS}")
    if field in ("n1i", "n2i"):
        return extraction._count(value, where)
    number = extraction._number(value, where)
    if field in ("vi", "sei") and number is not None and number <= 0:
        raise InputError(f"{where} = {value!r}: must be > 0")
    return number


class ExtractionWork:
    """Double data extraction (mixed into :class:`Review`)."""

    store: Store
    protocol: Protocol

    if TYPE_CHECKING:  # provided by StudyWork

        def _status(self, kind: str) -> pd.DataFrame: ...

    def _extract(self, extractor: str, study: str, items: dict[str, Any], origin: str) -> int:
        events = {item: (value, "") for item, value in items.items()}
        return classification.record_items(
            self.store, self.protocol, "extraction", study, extractor, events, origin=origin
        )

    def extract_characteristics(
        self, extractor: str, study: str, values: dict[str, Any], origin: str = "api"
    ) -> int:
        """Fields of the ``[characteristics.fields]`` form for a study."""
        items = extraction.characteristic_items(self.protocol, values)
        return self._extract(extractor, study, items, origin)

    def extract_arm(
        self, extractor: str, study: str, arm: str, origin: str = "api", **fields: Any
    ) -> int:
        """An arm: ``role`` (intervention / control), ``n_randomised``, ``n_analysed``,
        ``description``."""
        return self._extract(extractor, study, extraction.arm_items(arm, fields), origin)

    def extract_value(
        self, extractor: str, study: str, outcome: str, arm: str, origin: str = "api", **fields: Any
    ) -> int:
        """An outcome's value in one arm: ``n`` with mean/SD, mean/SE, mean/CI (``ci_lb``,
        ``ci_ub``, ``ci_level``), median with ``q1``/``q3`` or ``minimum``/``maximum``, or
        ``events``; ``change=True`` for change scores; ``unit`` of the values; outcome
        fields ``instrument``, ``timepoint``, ``direction`` (of the scale) and
        ``construct`` (the finer construct or instrument family measured, a possible
        subgroup of the analysis plan) may be given too."""
        items = extraction.value_items(self.protocol, outcome, arm, fields)
        return self._extract(extractor, study, items, origin)

    def extract_effect(
        self,
        extractor: str,
        study: str,
        outcome: str,
        yi: float,
        vi: float | None = None,
        measure: str = "SMD",
        *,
        sei: float | None = None,
        comparison: str = "",
        n1i: int | None = None,
        n2i: int | None = None,
        unit: str = "",
        origin: str = "api",
    ) -> int:
        """A precomputed effect reported by the study: ``yi`` with its sampling variance
        ``vi`` or its standard error ``sei`` (exactly one), the ``measure``, the group
        sizes ``n1i`` and ``n2i``, the ``unit`` of a mean difference; ``comparison``
        labels one of several effects a study reports for the outcome (e.g. "high support
        vs control")."""
        items = extraction.effect_items(
            self.protocol,
            outcome,
            yi,
            vi,
            measure,
            sei=sei,
            comparison=comparison,
            n1i=n1i,
            n2i=n2i,
            unit=unit,
        )
        return self._extract(extractor, study, items, origin)

    def data_availability(
        self,
        extractor: str,
        study: str,
        outcome: str,
        status: str,
        requested_on: str | dt.date | None = None,
        reply: str = "",
    ) -> int:
        """Whether the outcome's data are ``usable``, ``requested`` from the authors (with
        the date and their reply) or ``not_obtainable``."""
        items = extraction.availability_items(self.protocol, outcome, status, requested_on, reply)
        return self._extract(extractor, study, items, "api")

    def extraction_status(self) -> pd.DataFrame:
        """Field-level comparison: per study and item, status (pending, agreed, conflict,
        resolved), final value and each extractor's value (once all have extracted)."""
        return self._status("extraction")

    def extraction_conflicts(self) -> pd.DataFrame:
        """Fields on which the extractors differ (a field one of them left empty counts)."""
        table = self.extraction_status()
        return table[table["status"].eq("conflict")].reset_index(drop=True)

    def resolve_extraction(self, study: str, item: str, value: Any, by: str, note: str) -> None:
        """The arbiter's value for one field (item path as in :meth:`extraction_status`)."""
        parts = str(item).split("|")
        checked = self._check_item(parts, value)
        classification.record_items(
            self.store,
            self.protocol,
            "extraction",
            study,
            by,
            {item: (checked, note)},
            consensus=True,
        )

    def _check_item(self, parts: list[str], value: Any) -> Any:
        table = parts[0]
        if table == "characteristics" and len(parts) == 2:
            return extraction.characteristic_items(self.protocol, {parts[1]: value}).popitem()[1]
        if table == "arm" and len(parts) == 3:
            return extraction.arm_items(parts[1], {parts[2]: value}).popitem()[1]
        if table == "value" and len(parts) == 4:
            found = extraction.value_items(self.protocol, parts[1], parts[2], {parts[3]: value})
            return found.popitem()[1]
        if table == "outcome" and len(parts) == 3:
            found = extraction.value_items(self.protocol, parts[1], "x", {parts[2]: value})
            return found.popitem()[1]
        if table == "effect" and len(parts) in (3, 4):
            return _effect_field(parts[-1], value, "|".join(parts))
        if table == "availability" and len(parts) == 3:
            return value
        raise InputError(f"item {'|'.join(parts)!r} is not an extraction field path")

    def extraction_values(self) -> pd.DataFrame:
        """Settled values: study, table, outcome, arm, field, value."""
        return extraction.split_items(self.extraction_status().dropna(subset=["final"]))

    def characteristics_table(self) -> pd.DataFrame:
        """Settled characteristics, one row per study and a column per form field."""
        values = self.extraction_values()
        mine = values[values["table"] == "characteristics"]
        wide = mine.pivot(index="study", columns="field", values="value")
        return wide.reindex(columns=list(self.protocol.characteristics.fields))

    def availability_table(self) -> pd.DataFrame:
        """Data availability per study and outcome: status, requested_on, reply."""
        values = self.extraction_values()
        mine = values[values["table"] == "availability"]
        wide = mine.pivot_table(
            index=["study", "outcome"], columns="field", values="value", aggfunc="last"
        )
        return wide.reindex(columns=["status", "requested_on", "reply"]).reset_index()

    def extraction_table(
        self,
        outcome: str,
        measure: str = "SMD",
        multi_arm: str | None = None,
        effects: str | None = None,
        smd_convention: str | None = None,
    ) -> ExtractionTable:
        """The analysable table of an outcome (see :func:`extraction_table`)."""
        return extraction_table(self, outcome, measure, multi_arm, effects, smd_convention)

    def settle_multi_arm(
        self,
        outcome: str,
        by: str,
        note: str = "",
        *,
        measure: str = "SMD",
        multi_arm: str | None = None,
        effects: str | None = None,
    ) -> pd.DataFrame:
        """Record in the store how each multi-arm study's arms become ``outcome``'s
        comparisons (the rule, the arms combined or the control split, the Handbook
        formula, inputs, results and the comparisons' group sizes, means and SDs), as the
        analysable table computes them now; only trails that changed since they were last
        settled are recorded again. Returns the stored audit (see :meth:`multi_arm_audit`).
        """
        table = self.extraction_table(outcome, measure, multi_arm, effects)
        trails = multi_arm_audit.current_trails(table)
        multi_arm_audit.record_trails(
            self.store, self.protocol, outcome, table.measure, trails, by, note
        )
        return self.multi_arm_audit(outcome)

    def multi_arm_audit(self, outcome: str, part: str = "audit") -> pd.DataFrame:
        """The settled multi-arm trail of ``outcome`` read from the store: ``part`` "audit"
        (outcome, study, how, group, arms, n_arms, action, method, inputs, result) or
        "comparisons" (comparison, n1i, m1i, sd1i, n2i, m2i, sd2i or the event columns),
        with measure, recorded_by, recorded_at and note."""
        if outcome not in self.protocol.outcomes:
            raise InputError(f"outcome {outcome!r} is not in [outcomes] of review.toml")
        if part not in ("audit", "comparisons"):
            raise InputError(f"part = {part!r}: use 'audit' or 'comparisons'")
        with self.store.read() as conn:
            stored = multi_arm_audit.stored_trails(conn, outcome)
        return multi_arm_audit.audit_frame(stored, outcome, part)

    def export_extraction_sheet(self, extractor: str, path: str | Path) -> Path:
        """Write ``extractor``'s XLSX extraction workbook (their own values filled in)."""
        return extraction_sheets.export_extraction_sheet(self, extractor, path)

    def import_extraction_sheet(
        self, extractor: str, path: str | Path
    ) -> extraction_sheets.ExtractionImport:
        """Import a filled extraction workbook; any bad row means nothing is recorded."""
        return extraction_sheets.import_extraction_sheet(self, extractor, path)
