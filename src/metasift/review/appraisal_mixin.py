"""Risk-of-bias appraisal as methods of :class:`~metasift.review.Review`: signalling
answers and domain judgements by independent appraisers (per study, or per study and
outcome for RoB 2), the proposals of the tool's algorithms, consensus, the table of final
judgements, agreement, the robvis export and quality counts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from metasift.errors import InputError
from metasift.review import appraisal, classification
from metasift.review.agreement import AgreementResult, agreement
from metasift.review.appraisal_tools import AppraisalTool
from metasift.review.protocol import Protocol
from metasift.review.store import Store

__all__ = ["AppraisalWork"]


class AppraisalWork:
    """Risk of bias (mixed into :class:`Review` through ``StudyWork``)."""

    store: Store
    protocol: Protocol
    folder: Path

    if TYPE_CHECKING:  # provided by StudyWork

        def _status(self, kind: str) -> pd.DataFrame: ...

        def studies(self) -> pd.DataFrame: ...

        def classification_table(self) -> pd.DataFrame: ...

    @property
    def appraisal_tool(self) -> AppraisalTool:
        """The protocol's risk-of-bias tool."""
        return appraisal.protocol_tool(self.protocol)

    def _scope(self, outcome: str | None) -> str:
        return appraisal.scope(self.appraisal_tool, outcome, list(self.protocol.outcomes))

    def _recorded(self, appraiser: str, study: str, prefix: str) -> dict[str, Any]:
        """``appraiser``'s own current values in one scope (item without the scope)."""
        with self.store.read() as conn:
            coded = classification.coded_items(conn, "appraisal")
        mine = coded[
            (coded["reviewer"] == appraiser)
            & (coded["study"] == study)
            & ~coded["consensus"].astype(bool)
            & coded["item"].str.startswith(f"{prefix}:")
        ]
        return dict(zip(mine["item"].str.removeprefix(f"{prefix}:"), mine["value"], strict=True))

    def appraise(
        self,
        appraiser: str,
        study: str,
        judgements: dict[str, str] | None = None,
        support: dict[str, str] | None = None,
        important_limitation: bool | None = None,
        *,
        outcome: str | None = None,
        answers: dict[str, Any] | None = None,
        overall: str | None = None,
    ) -> int:
        """Record ``appraiser``'s appraisal of a study (and ``outcome``, for a tool assessed
        per outcome such as RoB 2): domain judgements (domain key -> judgement), answers to
        signalling questions (``"1.1"`` -> ``Y``/``PY``/``PN``/``N``/``NI``/``NA``), support
        text by domain, question, ``"overall"`` or ``"limitation"``, whether a known
        important limitation exists, and an overall judgement.

        A domain answered without a judgement gets the judgement the tool's algorithm
        proposes; a judgement or overall that departs from the proposal needs support text
        saying why. Returns the number of values recorded."""
        prefix = self._scope(outcome)
        try:
            items = appraisal.appraisal_items(
                self.appraisal_tool,
                judgements,
                support,
                important_limitation,
                prefix=prefix,
                answers=answers,
                overall=overall,
                recorded=self._recorded(appraiser, study, prefix),
            )
        except InputError as error:
            where = f"study {study!r}" + (f", outcome {outcome!r}" if outcome else "")
            raise InputError(f"{where}: {error}") from None
        return classification.record_items(
            self.store, self.protocol, "appraisal", study, appraiser, items
        )

    def resolve_appraisal(
        self,
        study: str,
        domain: str,
        judgement: str | bool,
        by: str,
        note: str,
        *,
        outcome: str | None = None,
    ) -> None:
        """The arbiter's consensus value of one domain, signalling question (``"1.2"``),
        ``"limitation"`` or ``"overall"``, with a note."""
        tool, prefix = self.appraisal_tool, self._scope(outcome)
        key = str(domain).strip()
        items: dict[str, tuple[Any, str]]
        if key == appraisal.LIMITATION:
            items = {f"{prefix}:{key}": (bool(judgement), note)}
        elif key == appraisal.OVERALL:
            allowed = tool.ratings or tool.judgements
            value = str(judgement).strip().lower()
            if value not in allowed:
                raise InputError(f"overall {judgement!r}: use one of {list(allowed)}")
            items = {f"{prefix}:{key}": (value, note)}
        elif key in {d.key for d in tool.domains}:
            items = {f"{prefix}:{key}": (tool.check_judgement(key, str(judgement)), note)}
        else:
            found, question = tool.question(key)
            items = {f"{prefix}:{found.key}:{question.key}": (question.check(judgement), note)}
        classification.record_items(
            self.store, self.protocol, "appraisal", study, by, items, consensus=True
        )

    def appraisal_status(self) -> pd.DataFrame:
        """Per study, outcome ("" for tools assessed per study), domain and signalling
        question ("" for the judgement): status, final value, appraisers' values."""
        status = self._status("appraisal")
        parts = pd.DataFrame(
            [appraisal.parse_item(i) for i in status["item"]],
            columns=list(appraisal.AppraisalItem._fields),
            index=status.index,
        )
        mine = parts["tool"] == self.appraisal_tool.key
        table = pd.concat([status[["study"]], parts.drop(columns="tool")], axis=1)[mine]
        rest = status.drop(columns=["study", "item"])[mine]
        return pd.concat([table, rest], axis=1).reset_index(drop=True)

    def appraisal_conflicts(self) -> pd.DataFrame:
        """Judgements and answers on which the appraisers disagree, not yet settled."""
        table = self.appraisal_status()
        return table[table["status"].eq("conflict")].reset_index(drop=True)

    def appraisal_table(self, outcome: str | None = None) -> pd.DataFrame:
        """Final judgements per study (per study and outcome for RoB 2; ``outcome`` keeps
        one): domains, the algorithm's proposals, limitation, overall_proposed (the tool's
        rule: AHRQ quality for the modified Cochrane tool), overall, complete."""
        tool = self.appraisal_tool
        table = appraisal.judgement_table(
            self._status("appraisal"),
            tool,
            list(self.studies()["study"]),
            list(self.protocol.outcomes),
        )
        if outcome is not None:
            self._scope(outcome)
            table = table[table["outcome"] == outcome].reset_index(drop=True)
        return table

    def study_quality(self, outcome: str | None = None) -> pd.Series:
        """The overall rating by study: of ``outcome`` for a tool assessed per outcome."""
        tool = self.appraisal_tool
        if tool.per_outcome and outcome is None:
            return pd.Series(dtype=object)
        table = self.appraisal_table(outcome if tool.per_outcome else None)
        return table.set_index("study")["overall"]

    def appraisal_agreement(
        self, domain: str | None = None, level: float = 0.95, outcome: str | None = None
    ) -> AgreementResult:
        """Agreement among appraisers before consensus, over (study, outcome, domain)
        judgements: all domains pooled, or one domain; all outcomes, or one."""
        tool = self.appraisal_tool
        keys = [d.key for d in tool.domains] if domain is None else [tool.domain(domain).key]
        if outcome is not None:
            self._scope(outcome)
        status = self.appraisal_status()
        chosen = status["domain"].isin(keys) & status["question"].eq("")
        if outcome is not None:
            chosen &= status["outcome"].eq(outcome)
        coders = [f"by_{c}" for c in self.protocol.coders("risk_of_bias")]
        done = status[chosen & status[coders].notna().all(axis=1)]
        ratings = done[coders].rename(columns=lambda c: c.removeprefix("by_")).astype(object)
        return agreement(ratings.reset_index(drop=True), domain or "all domains", level)

    def write_robvis(self, path: str | Path | None = None, outcome: str | None = None) -> Path:
        """Write the final judgements in robvis' CSV layout (default output/robvis.csv, or
        output/robvis-OUTCOME.csv for one outcome of a tool assessed per outcome)."""
        tool = self.appraisal_tool
        if outcome is not None:
            self._scope(outcome)
        frame = appraisal.robvis_frame(self.appraisal_table(), tool, outcome)
        name = f"robvis-{outcome}.csv" if outcome else "robvis.csv"
        target = Path(path) if path is not None else Path(self.folder) / "output" / name
        return appraisal.write_robvis(frame, target)

    def quality_counts(self, facet: str, outcome: str | None = None) -> pd.DataFrame:
        """Overall ratings (good/fair/poor for the modified Cochrane tool) counted per
        category of a classification facet, with an ``All`` row; for a tool assessed per
        outcome, the ratings of ``outcome``."""
        tool = self.appraisal_tool
        if tool.per_outcome and outcome is None:
            raise InputError(
                f"the {tool.name} tool is assessed per outcome: give the outcome (one of "
                f"{list(self.protocol.outcomes)})"
            )
        codes = self.classification_table()
        if facet not in codes.columns:
            raise InputError(f"facet {facet!r} is not in [classification.facets]")
        ratings = self.study_quality(outcome).dropna()
        return appraisal.quality_counts(ratings, codes[facet], tool.ratings or tool.judgements)
