"""The study-level work of a review, as methods of :class:`~metasift.review.Review`:
studies and their reports, classification by independent coders with consensus, and
risk-of-bias appraisal (:mod:`metasift.review.appraisal_mixin`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from metasift.errors import InputError
from metasift.review import classification
from metasift.review._records import record_ids
from metasift.review.agreement import AgreementResult, agreement
from metasift.review.appraisal_mixin import AppraisalWork
from metasift.review.protocol import Protocol
from metasift.review.store import Store

__all__ = ["StudyWork"]

RecordRef = int | str


class StudyWork(AppraisalWork):
    """Studies, classification and risk of bias (mixed into :class:`Review`)."""

    store: Store
    protocol: Protocol
    # studies ---------------------------------------------------------------------------

    def add_study(self, label: str, records: Sequence[RecordRef] = (), note: str = "") -> int:
        """Add an included study by label with its reports (records); returns its id."""
        with self.store.read() as conn:
            ids = record_ids(conn, list(records)) if records else []
        return classification.add_study(self.store, label, ids, note)

    def studies(self) -> pd.DataFrame:
        """The studies: study_id, study (label), records."""
        with self.store.read() as conn:
            return classification.studies_frame(conn)

    def _status(self, kind: str) -> pd.DataFrame:
        """:func:`classification.item_status` of ``kind`` (extraction: by study), derived
        again only when events of that kind were added since the last call: a run of the
        analysis plan and the report ask for it many times."""
        with self.store.read() as conn:
            version = classification.events_version(conn, kind)
            cached = self._status_cache.get(kind)
            if cached is not None and cached[0] == version:
                return cached[1].copy()
            coded = classification.coded_items(conn, kind)
        coders = self.protocol.coders(classification.SECTIONS[kind])
        status = classification.item_status(coded, coders, by_study=kind == "extraction")
        self._status_cache[kind] = (version, status)
        return status.copy()

    def _ratings(self, kind: str, items: Sequence[str]) -> pd.DataFrame:
        """Coders' values before consensus, (study, item) x coder, where all coded."""
        coders = self.protocol.coders(classification.SECTIONS[kind])
        status = self._status(kind)
        done = status[
            status["item"].isin(items) & status[[f"by_{c}" for c in coders]].notna().all(axis=1)
        ]
        table = done.set_index(["study", "item"])[[f"by_{c}" for c in coders]]
        return table.rename(columns=lambda c: c.removeprefix("by_")).astype(object)

    # classification --------------------------------------------------------------------

    def classify(self, coder: str, study: str, codes: dict[str, str], note: str = "") -> int:
        """Record ``coder``'s categories (facet -> category) for a study."""
        checked = classification.classification_codes(self.protocol, codes)
        items = {facet: (value, note) for facet, value in checked.items()}
        return classification.record_items(
            self.store, self.protocol, "classification", study, coder, items
        )

    def resolve_classification(
        self, study: str, facet: str, category: str, by: str, note: str
    ) -> None:
        """The arbiter's consensus category for one facet of a study, with a note."""
        value = classification.classification_codes(self.protocol, {facet: category})[facet]
        classification.record_items(
            self.store,
            self.protocol,
            "classification",
            study,
            by,
            {facet: (value, note)},
            consensus=True,
        )

    def classification_status(self) -> pd.DataFrame:
        """Per study and facet: status (pending/agreed/conflict/resolved), final, coders'
        categories (shown once every coder has coded the facet)."""
        return self._status("classification").rename(columns={"item": "facet"})

    def classification_conflicts(self) -> pd.DataFrame:
        """Facets of studies on which the coders disagree and no consensus is recorded."""
        table = self.classification_status()
        return table[table["status"].eq("conflict")].reset_index(drop=True)

    def classification_table(self) -> pd.DataFrame:
        """Final category per study (rows) and facet (columns); NaN while unsettled."""
        status = self.classification_status()
        wide = status.pivot(index="study", columns="facet", values="final")
        facets = list(self.protocol.classification.facets)
        return wide.reindex(index=self.studies()["study"], columns=facets)

    def classification_agreement(self, facet: str, level: float = 0.95) -> AgreementResult:
        """Agreement among coders on one facet, before consensus (studies x coders)."""
        if facet not in self.protocol.classification.facets:
            raise InputError(f"facet {facet!r} is not in [classification.facets]")
        ratings = self._ratings("classification", [facet]).droplevel("item")
        return agreement(ratings, facet, level)
