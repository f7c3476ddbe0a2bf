"""PRISMA 2020 flow counts derived from the store, written as the PRISMA2020 package's CSV.

Nothing is typed in: every count follows from the imported records, the deduplication,
the pre-screening answers and the screening decisions. The CSV has the layout of
``inst/extdata/PRISMA.csv`` of the PRISMA2020 R package and Shiny app (Haddaway, Page,
Pritchard & McGuinness 2022, Campbell Systematic Reviews 18:e1230), so the file can be
loaded there unchanged.
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from metasift.errors import DataWarning
from metasift.review._state import stage_states
from metasift.review.protocol import Protocol

__all__ = ["PrismaFlow", "prisma_flow"]

# The rows of the PRISMA2020 template: data, node, box, description, boxtext, tooltips, url.
_T = "Records identified from: "
_TEMPLATE: tuple[tuple[str, ...], ...] = (
    (
        "NA",
        "node4",
        "prevstud",
        "Grey title box; Previous studies",
        "Previous studies",
        "Grey title box; Previous studies",
        "prevstud.html",
    ),
    (
        "previous_studies",
        "node5",
        "box1",
        "Studies included in previous version of review",
        "Studies included in previous version of review",
        "Studies included in previous version of review",
        "previous_studies.html",
    ),
    (
        "previous_reports",
        "NA",
        "box1",
        "Reports of studies included in previous version of review",
        "Reports of studies included in previous version of review",
        "NA",
        "previous_reports.html",
    ),
    (
        "NA",
        "node6",
        "newstud",
        "Yellow title box; Identification of new studies via databases and registers",
        "Identification of new studies via databases and registers",
        "Yellow title box; Identification of new studies via databases and registers",
        "newstud.html",
    ),
    (
        "database_results",
        "node7",
        "box2",
        _T + "Databases",
        "Databases",
        _T + "Databases and Registers",
        "database_results.html",
    ),
    (
        "database_specific_results",
        "NA",
        "box2",
        _T + "specific databases",
        "Specific Databases",
        "NA",
        "database_results.html",
    ),
    ("register_results", "NA", "box2", _T + "Registers", "Registers", "NA", "NA"),
    (
        "register_specific_results",
        "NA",
        "box2",
        _T + "specific registers",
        "Specific Registers",
        "NA",
        "database_results.html",
    ),
    (
        "NA",
        "node16",
        "othstud",
        "Grey title box; Identification of new studies via other methods",
        "Identification of new studies via other methods",
        "Grey title box; Identification of new studies via other methods",
        "othstud.html",
    ),
    (
        "website_results",
        "node17",
        "box11",
        _T + "Websites",
        "Websites",
        _T + "Websites, Organisations and Citation Searching",
        "website_results.html",
    ),
    ("organisation_results", "", "box11", _T + "Organisations", "Organisations", "NA", "NA"),
    (
        "citations_results",
        "NA",
        "box11",
        _T + "Citation searching",
        "Citation searching",
        "NA",
        "NA",
    ),
    (
        "duplicates",
        "node8",
        "box3",
        "Duplicate records",
        "Duplicate records",
        "Duplicate records",
        "duplicates.html",
    ),
    (
        "excluded_automatic",
        "NA",
        "box3",
        "Records marked as ineligible by automation tools",
        "Records marked as ineligible by automation tools",
        "NA",
        "NA",
    ),
    (
        "excluded_other",
        "NA",
        "box3",
        "Records removed for other reasons",
        "Records removed for other reasons",
        "NA",
        "NA",
    ),
    (
        "records_screened",
        "node9",
        "box4",
        "Records screened (databases and registers)",
        "Records screened",
        "Records screened (databases and registers)",
        "records_screened.html",
    ),
    (
        "records_excluded",
        "node10",
        "box5",
        "Records excluded (databases and registers)",
        "Records excluded",
        "Records excluded (databases and registers)",
        "records_excluded.html",
    ),
    (
        "dbr_sought_reports",
        "node11",
        "box6",
        "Reports sought for retrieval (databases and registers)",
        "Reports sought for retrieval",
        "Reports sought for retrieval (databases and registers)",
        "dbr_sought_reports.html",
    ),
    (
        "dbr_notretrieved_reports",
        "node12",
        "box7",
        "Reports not retrieved (databases and registers)",
        "Reports not retrieved",
        "Reports not retrieved (databases and registers)",
        "dbr_notretrieved_reports.html",
    ),
    (
        "other_sought_reports",
        "node18",
        "box12",
        "Reports sought for retrieval (other)",
        "Reports sought for retrieval",
        "Reports sought for retrieval (other)",
        "other_sought_reports.html",
    ),
    (
        "other_notretrieved_reports",
        "node19",
        "box13",
        "Reports not retrieved (other)",
        "Reports not retrieved",
        "Reports not retrieved (other)",
        "other_notretrieved_reports.html",
    ),
    (
        "dbr_assessed",
        "node13",
        "box8",
        "Reports assessed for eligibility (databases and registers)",
        "Reports assessed for eligibility",
        "Reports assessed for eligibility (databases and registers)",
        "dbr_assessed.html",
    ),
    (
        "dbr_excluded",
        "node14",
        "box9",
        "Reports excluded (databases and registers): [separate "
        "reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]",
        "Reports excluded",
        "Reports excluded (databases and registers)",
        "dbrexcludedrecords.html",
    ),
    (
        "other_assessed",
        "node20",
        "box14",
        "Reports assessed for eligibility (other)",
        "Reports assessed for eligibility",
        "Reports assessed for eligibility (other)",
        "other_assessed.html",
    ),
    (
        "other_excluded",
        "node21",
        "box15",
        "Reports excluded (other): [separate reasons and "
        "numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]",
        "Reports excluded",
        "Reports excluded (other)",
        "other_excluded.html",
    ),
    (
        "new_studies",
        "node15",
        "box10",
        "New studies included in review",
        "New studies included in review",
        "New studies included in review",
        "new_studies.html",
    ),
    (
        "new_reports",
        "NA",
        "box10",
        "Reports of new included studies",
        "Reports of new included studies",
        "NA",
        "NA",
    ),
    (
        "total_studies",
        "node22",
        "box16",
        "Total studies included in review",
        "Total studies included in review",
        "Total studies included in review",
        "total_studies.html",
    ),
    (
        "total_reports",
        "NA",
        "box16",
        "Reports of total included studies",
        "Reports of total included studies",
        "NA",
        "NA",
    ),
    (
        "identification",
        "node1",
        "identification",
        "Blue identification box",
        "Identification",
        "Blue identification box",
        "identification.html",
    ),
    (
        "screening",
        "node2",
        "screening",
        "Blue screening box",
        "Screening",
        "Blue screening box",
        "screening.html",
    ),
    (
        "included",
        "node3",
        "included",
        "Blue included box",
        "Included",
        "Blue included box",
        "included.html",
    ),
    (
        "total_studies_ma",
        "node23",
        "box17",
        "Total studies included in meta-analysis",
        "Total studies included in meta-analysis",
        "Total studies included in meta-analysis",
        "total_studies_meta_analysis.html",
    ),
    (
        "total_reports_ma",
        "NA",
        "box17",
        "Reports of total included studies in meta-analysis",
        "Reports of total included studies in meta-analysis",
        "NA",
        "NA",
    ),
)
_COLUMNS = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")

Entries = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class PrismaFlow:
    """The PRISMA 2020 counts of a review (field names are the PRISMA2020 variables).

    ``None`` means "not known to the store" (the meta-analysis box, filled by the synthesis
    step). List fields hold ``(name, n)`` pairs. ``pending`` counts, per stage, the records
    in the stage's pool that have no final decision yet: while it is not empty the counts
    describe a review in progress.

    Notes
    -----
    The counts follow from the store (see :func:`prisma_flow`): records identified per
    source; duplicates are database and register records linked to another record;
    "removed for other reasons" are accepted pre-screening proposals; screened = identified
    - duplicates - removed; excluded and sought are the final title/abstract decisions;
    not retrieved, assessed and excluded with reasons come from the full-text stage, where
    records from other methods (websites, organisations, citation searching) enter
    directly; studies are the distinct study groups of the included reports.

    Examples
    --------
    >>> flow = PrismaFlow(database_results=120, database_specific_results=(("PubMed", 70),
    ...                   ("PsycInfo", 50)), duplicates=20, records_screened=100)
    >>> frame = flow.to_frame().set_index("data")
    >>> frame.loc["database_specific_results", "n"], frame.loc["records_screened", "n"]
    ('PubMed, 70; PsycInfo, 50', '100')
    """

    previous_studies: int = 0
    previous_reports: int = 0
    database_results: int = 0
    database_specific_results: Entries = ()
    register_results: int = 0
    register_specific_results: Entries = ()
    website_results: int = 0
    organisation_results: int = 0
    citations_results: int = 0
    duplicates: int = 0
    excluded_automatic: int = 0
    excluded_other: int = 0
    records_screened: int = 0
    records_excluded: int = 0
    dbr_sought_reports: int = 0
    dbr_notretrieved_reports: int = 0
    other_sought_reports: int = 0
    other_notretrieved_reports: int = 0
    dbr_assessed: int = 0
    dbr_excluded: Entries = ()
    other_assessed: int = 0
    other_excluded: Entries = ()
    new_studies: int = 0
    new_reports: int = 0
    total_studies: int = 0
    total_reports: int = 0
    total_studies_ma: int | None = None
    total_reports_ma: int | None = None
    pending: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """PRISMA2020 variable -> value (lists as ``{name: n}``), without ``pending``."""
        out: dict[str, Any] = {}
        for item in fields(self):
            if item.name == "pending":
                continue
            value = getattr(self, item.name)
            out[item.name] = dict(value) if isinstance(value, tuple) else value
        return out

    def to_frame(self) -> pd.DataFrame:
        """The PRISMA2020 CSV as a frame: the template's columns, ``n`` filled in."""
        values = self.as_dict()
        rows = []
        for row in _TEMPLATE:
            name = row[0]
            value = values.get(name, 0) if name in values else 0
            if isinstance(value, dict):
                text = "; ".join(f"{k}, {v}" for k, v in value.items()) or "NA"
            else:
                text = "NA" if value is None else str(value)
            rows.append((*row, text))
        return pd.DataFrame(rows, columns=list(_COLUMNS))

    def write_csv(self, path: str | Path) -> Path:
        """Write the PRISMA2020 CSV; a :class:`DataWarning` when screening is incomplete."""
        open_stages = {k: v for k, v in self.pending.items() if v}
        if open_stages:
            warnings.warn(
                f"PRISMA counts of a review in progress: records without a final decision "
                f"{open_stages}",
                DataWarning,
                stacklevel=2,
            )
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(_COLUMNS)
            writer.writerows(self.to_frame().itertuples(index=False))
        return target

    def summary(self) -> str:
        """The counts, one per line, in the order of the diagram."""
        lines = []
        for name, value in self.as_dict().items():
            if isinstance(value, dict):
                value = "; ".join(f"{k}: {v}" for k, v in value.items()) or "-"
            lines.append(f"{name:28s} {value if value is not None else 'NA'}")
        if any(self.pending.values()):
            lines.append(f"(in progress: no final decision yet {self.pending})")
        return "\n".join(lines)


def _entries(frame: pd.DataFrame, column: str, order: list[str]) -> Entries:
    counts = frame[column].value_counts()
    names = [n for n in order if n in counts.index] + sorted(
        n for n in counts.index if n not in order
    )
    return tuple((str(n), int(counts[n])) for n in names)


def _reports(ft: pd.DataFrame, protocol: Protocol) -> dict[str, Any]:
    settings = protocol.stage("full_text", required=False)
    reasons = list(settings.reasons) if settings is not None else []
    out: dict[str, Any] = {}
    for prefix, mask in (("dbr", ft["dbr"]), ("other", ~ft["dbr"])):
        part = ft[mask]
        out[f"{prefix}_notretrieved_reports"] = int(part["retrieved"].eq(False).sum())
        out[f"{prefix}_assessed"] = int(part["in_pool"].sum())
        excluded = part[part["in_pool"] & part["final"].eq("exclude")]
        out[f"{prefix}_excluded"] = _entries(
            excluded.fillna({"reason": "No reason"}), "reason", reasons
        )
    out["other_sought_reports"] = int(ft.loc[~ft["dbr"], "sought"].sum())
    return out


def prisma_flow(conn: Connection, protocol: Protocol) -> PrismaFlow:
    """Derive every PRISMA 2020 count from the store."""
    tiab = stage_states(conn, protocol, "title_abstract")
    order = [s.name for s in protocol.databases]
    counts: dict[str, Any] = {}
    for kind, name in (("database", "database"), ("register", "register")):
        part = tiab[tiab["kind"] == kind]
        counts[f"{name}_results"] = len(part)
        counts[f"{name}_specific_results"] = _entries(part, "database", order)
    for kind in ("website", "organisation"):
        counts[f"{kind}_results"] = int((tiab["kind"] == kind).sum())
    counts["citations_results"] = int((tiab["kind"] == "citation").sum())
    dbr = tiab[tiab["dbr"]]
    counts["duplicates"] = int(dbr["dedup"].eq("duplicate").sum())
    counts["excluded_other"] = int((dbr["dedup"].ne("duplicate") & ~dbr["in_pool"]).sum())
    counts["records_screened"] = int(dbr["in_pool"].sum())
    counts["records_excluded"] = int((dbr["in_pool"] & dbr["final"].eq("exclude")).sum())
    counts["dbr_sought_reports"] = int((dbr["in_pool"] & dbr["final"].eq("include")).sum())
    pending = {"title_abstract": int((dbr["in_pool"] & dbr["final"].isna()).sum())}
    if protocol.stage("full_text", required=False) is not None:
        ft = stage_states(conn, protocol, "full_text")
        counts.update(_reports(ft, protocol))
        counts["dbr_assessed"] = int((ft["dbr"] & ft["in_pool"]).sum())
        included = ft[ft["in_pool"] & ft["final"].eq("include")]
        pending["full_text"] = int((ft["in_pool"] & ft["final"].isna()).sum())
    else:
        included = dbr[dbr["in_pool"] & dbr["final"].eq("include")]
    counts["new_studies"] = int(included["study_id"].nunique())
    counts["new_reports"] = len(included)
    counts["total_studies"] = counts["new_studies"]
    counts["total_reports"] = counts["new_reports"]
    return PrismaFlow(**counts, pending=pending)
