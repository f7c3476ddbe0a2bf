"""Data extraction: the characteristics form, arms, outcome values, precomputed effects and
data availability of each study, extracted by independent extractors (double extraction)
and compared field by field.

Every extracted field is a study event of kind ``extraction`` whose item is a path:

- ``characteristics|FIELD``: a field of the protocol's ``[characteristics.fields]`` form;
- ``arm|ARM|FIELD``: ``role`` (intervention / control), ``n_randomised``, ``n_analysed``,
  ``description``;
- ``outcome|OUTCOME|FIELD``: ``instrument``, ``timepoint``, ``direction`` (of the scale
  used: higher or lower is better) and ``construct`` (free text: the finer construct or
  instrument family the instrument measures, e.g. "Depression" or "Quality of life",
  which subgroup analyses can use);
- ``value|OUTCOME|ARM|FIELD``: ``n``, ``mean``, ``sd``, ``se``, ``ci_lb``, ``ci_ub``,
  ``ci_level``, ``median``, ``q1``, ``q3``, ``minimum``, ``maximum``, ``events``,
  ``change`` (True for change-from-baseline scores) and the ``unit`` of the values
  (stores written before units were kept per value have ``outcome|OUTCOME|unit``, which
  still applies to the values without their own);
- ``effect|OUTCOME|FIELD`` and ``effect|OUTCOME|LABEL|FIELD``: a precomputed effect
  ``yi`` with its sampling variance ``vi`` or standard error ``sei`` (as reported), its
  ``measure`` and the group sizes ``n1i``, ``n2i``; a study reporting several comparisons
  (e.g. two intervention arms against one control) gives each a label;
- ``availability|OUTCOME|FIELD``: ``status`` (usable / requested / not_obtainable),
  ``requested_on`` (ISO date) and ``reply``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from metasift.errors import InputError
from metasift.review.protocol import Protocol

__all__ = [
    "ARM_FIELDS",
    "AVAILABILITY",
    "EFFECT_FIELDS",
    "OUTCOME_FIELDS",
    "VALUE_FIELDS",
    "arm_items",
    "availability_items",
    "characteristic_items",
    "effect_items",
    "outcome_items",
    "split_items",
    "value_items",
]

ARM_FIELDS = ("role", "n_randomised", "n_analysed", "description")
ROLES = ("intervention", "control")
OUTCOME_FIELDS = ("instrument", "timepoint", "direction", "construct")
VALUE_FIELDS = (
    "n",
    "mean",
    "sd",
    "se",
    "ci_lb",
    "ci_ub",
    "ci_level",
    "median",
    "q1",
    "q3",
    "minimum",
    "maximum",
    "events",
    "change",
    "unit",
)
EFFECT_FIELDS = ("yi", "vi", "sei", "measure", "n1i", "n2i", "unit")
AVAILABILITY = ("usable", "requested", "not_obtainable")
_COUNTS = ("n", "n_randomised", "n_analysed", "events")


def _name(value: str, what: str) -> str:
    text = str(value).strip()
    if not text or "|" in text:
        raise InputError(f"{what} {value!r}: give a name without '|'")
    return text


def _number(value: Any, where: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where} = {value!r}: a number is needed") from None
    if not math.isfinite(number):
        raise InputError(f"{where} = {value!r}: a finite number is needed")
    return number


def _count(value: Any, where: str) -> int | None:
    number = _number(value, where)
    if number is None:
        return None
    if number < 0 or not float(number).is_integer():
        raise InputError(f"{where} = {value!r}: a whole number >= 0 is needed")
    return int(number)


def _flag(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "none"):
        return None
    if text in ("yes", "true", "1", "y"):
        return True
    if text in ("no", "false", "0", "n"):
        return False
    raise InputError(f"{where} = {value!r}: use yes or no")


def characteristic_items(protocol: Protocol, values: Mapping[str, Any]) -> dict[str, Any]:
    """Form fields checked against ``[characteristics.fields]`` (type and choices)."""
    form = protocol.characteristics.fields
    items: dict[str, Any] = {}
    for field, value in values.items():
        if field not in form:
            raise InputError(
                f"characteristic {field!r} is not in [characteristics.fields] of review.toml; "
                f"fields are {list(form)}"
            )
        spec, where = form[field], f"characteristics.{field}"
        checked: Any
        if spec.type == "number":
            checked = _number(value, where)
        elif spec.type == "integer":
            checked = _count(value, where)
        elif spec.type == "boolean":
            checked = _flag(value, where)
        elif spec.type == "choice":
            match = [c for c in spec.choices if c.casefold() == str(value).strip().casefold()]
            if value not in (None, "") and not match:
                raise InputError(f"{where} = {value!r}: choose one of {spec.choices}")
            checked = match[0] if match else None
        else:
            checked = None if value is None else str(value).strip()
        items[f"characteristics|{field}"] = checked
    return items


def arm_items(arm: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Fields of one arm, checked (role, counts)."""
    arm = _name(arm, "arm")
    items: dict[str, Any] = {}
    for field, value in fields.items():
        where = f"arm {arm!r}: {field}"
        if field not in ARM_FIELDS:
            raise InputError(f"{where} is not an arm field; fields are {list(ARM_FIELDS)}")
        if field == "role":
            value = str(value).strip().lower()
            if value not in ROLES:
                raise InputError(f"{where} = {value!r}: use one of {list(ROLES)}")
        elif field in _COUNTS:
            value = _count(value, where)
        else:
            value = str(value or "").strip()
        items[f"arm|{arm}|{field}"] = value
    return items


def _outcome(protocol: Protocol, outcome: str) -> str:
    if outcome not in protocol.outcomes:
        raise InputError(
            f"outcome {outcome!r} is not in [outcomes] of review.toml; outcomes are "
            f"{list(protocol.outcomes)}"
        )
    return outcome


def _outcome_field(outcome: str, field: str, value: Any, where: str) -> dict[str, str]:
    text = str(value or "").strip()
    if field == "direction":
        text = text.lower()
        if text not in ("", "higher", "lower"):
            raise InputError(f"{where} = {value!r}: use higher or lower (is better)")
    return {f"outcome|{outcome}|{field}": text}


def outcome_items(protocol: Protocol, outcome: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Outcome-level fields of a study (instrument, timepoint, direction, construct),
    checked; a study that reports only effects records them this way.

    Examples
    --------
    >>> from metasift.review.protocol import parse_protocol
    >>> p = parse_protocol('[review]\\ntitle = "x"\\n[team]\\nreviewers = ["ann", "dana"]\\n'
    ...     '[screening.title_abstract]\\narbiter = "dana"\\n[outcomes.qol]\\n')
    >>> outcome_items(p, "qol", {"construct": "Quality of life", "direction": "Higher"})
    {'outcome|qol|construct': 'Quality of life', 'outcome|qol|direction': 'higher'}
    """
    outcome = _outcome(protocol, outcome)
    items: dict[str, Any] = {}
    for field, value in fields.items():
        if field not in OUTCOME_FIELDS:
            raise InputError(
                f"{outcome}: {field} is not an outcome field; fields are {list(OUTCOME_FIELDS)}"
            )
        items |= _outcome_field(outcome, field, value, f"{outcome}: {field}")
    return items


def value_items(
    protocol: Protocol, outcome: str, arm: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """Fields of an outcome's value in one arm, checked; outcome fields (instrument,
    timepoint, direction, construct) given here are stored at the outcome level.

    Examples
    --------
    >>> from metasift.review.protocol import parse_protocol
    >>> p = parse_protocol('[review]\\ntitle = "x"\\n[team]\\nreviewers = ["ann", "dana"]\\n'
    ...     '[screening.title_abstract]\\narbiter = "dana"\\n[outcomes.qol]\\n')
    >>> value_items(p, "qol", "peer", {"mean": 2, "construct": " Quality of life "})
    {'value|qol|peer|mean': 2.0, 'outcome|qol|construct': 'Quality of life'}
    """
    outcome, arm = _outcome(protocol, outcome), _name(arm, "arm")
    items: dict[str, Any] = {}
    for field, value in fields.items():
        where = f"{outcome}, arm {arm!r}: {field}"
        if field in OUTCOME_FIELDS:
            items |= _outcome_field(outcome, field, value, where)
        elif field not in VALUE_FIELDS:
            raise InputError(
                f"{where} is not a value field; fields are {list(VALUE_FIELDS + OUTCOME_FIELDS)}"
            )
        elif field == "change":
            items[f"value|{outcome}|{arm}|{field}"] = _flag(value, where)
        elif field == "unit":
            items[f"value|{outcome}|{arm}|{field}"] = str(value or "").strip() or None
        elif field in _COUNTS:
            items[f"value|{outcome}|{arm}|{field}"] = _count(value, where)
        else:
            items[f"value|{outcome}|{arm}|{field}"] = _number(value, where)
    return items


def _positive(value: Any, where: str) -> float | None:
    number = _number(value, where)
    if number is not None and number <= 0:
        raise InputError(f"{where} = {value!r}: must be > 0")
    return number


def effect_items(
    protocol: Protocol,
    outcome: str,
    yi: Any,
    vi: Any = None,
    measure: str = "SMD",
    *,
    sei: Any = None,
    comparison: str = "",
    n1i: Any = None,
    n2i: Any = None,
    unit: str = "",
) -> dict[str, Any]:
    """A precomputed effect with its sampling variance ``vi`` or its standard error
    ``sei`` (exactly one, > 0), the measure, the group sizes and, for a mean difference,
    the unit of the outcome it is expressed in, under the item path
    ``effect|OUTCOME|FIELD`` or, for a labelled comparison, ``effect|OUTCOME|LABEL|FIELD``.

    Examples
    --------
    >>> from metasift.review.protocol import parse_protocol
    >>> p = parse_protocol('[review]\\ntitle = "x"\\n[team]\\nreviewers = ["ann", "dana"]\\n'
    ...     '[screening.title_abstract]\\narbiter = "dana"\\n[outcomes.qol]\\n')
    >>> items = effect_items(p, "qol", 0.4, sei=0.2, comparison="high dose", n1i=30, n2i=31)
    >>> items["effect|qol|high dose|sei"], items["effect|qol|high dose|vi"]
    (0.2, None)
    """
    outcome = _outcome(protocol, outcome)
    label = str(comparison or "").strip()
    where = f"{outcome}" + (f", comparison {label!r}" if label else "")
    if label:
        _name(label, "comparison")
    prefix = f"effect|{outcome}|{label}|" if label else f"effect|{outcome}|"
    yi_ = _number(yi, f"{where}: yi")
    if yi_ is None:
        raise InputError(f"{where}: yi is missing; a precomputed effect needs its value")
    vi_, sei_ = _positive(vi, f"{where}: vi"), _positive(sei, f"{where}: sei")
    if (vi_ is None) == (sei_ is None):
        raise InputError(
            f"{where}: give exactly one of vi (sampling variance) or sei (standard error); "
            f"got vi = {vi!r}, sei = {sei!r}"
        )
    values = {
        "yi": yi_,
        "vi": vi_,
        "sei": sei_,
        "measure": str(measure or "SMD").strip().upper(),
        "n1i": _count(n1i, f"{where}: n1i"),
        "n2i": _count(n2i, f"{where}: n2i"),
        "unit": str(unit or "").strip() or None,
    }
    return {prefix + field: value for field, value in values.items()}


def availability_items(
    protocol: Protocol,
    outcome: str,
    status: str,
    requested_on: str | dt.date | None = None,
    reply: str = "",
) -> dict[str, Any]:
    """Whether the outcome's data are usable, requested from the authors (date, reply) or
    not obtainable."""
    outcome = _outcome(protocol, outcome)
    status = str(status).strip().lower().replace(" ", "_")
    if status not in AVAILABILITY:
        raise InputError(f"{outcome}: availability {status!r}: use one of {list(AVAILABILITY)}")
    when = None
    if requested_on not in (None, ""):
        try:
            when = dt.date.fromisoformat(str(requested_on)[:10]).isoformat()
        except ValueError:
            raise InputError(f"{outcome}: requested_on {requested_on!r}: use YYYY-MM-DD") from None
    if status == "requested" and when is None:
        raise InputError(f"{outcome}: a request to the authors needs its date (requested_on)")
    return {
        f"availability|{outcome}|status": status,
        f"availability|{outcome}|requested_on": when,
        f"availability|{outcome}|reply": str(reply or "").strip(),
    }


def split_items(status: pd.DataFrame) -> pd.DataFrame:
    """Final extraction values with the item path split: study, table, outcome, arm,
    comparison (the label of a labelled precomputed effect, else ""), field, value (rows
    with no final value are left out).

    Examples
    --------
    >>> status = pd.DataFrame({"study": ["A", "A", "A"], "final": [2.0, 0.1, 5],
    ...     "item": ["value|qol|peer|mean", "effect|qol|high|vi", "effect|qol|yi"]})
    >>> split_items(status)[["table", "arm", "comparison", "field"]]
        table   arm comparison field
    0   value  peer             mean
    1  effect             high    vi
    2  effect                     yi
    """
    rows = []
    for study, item, final in zip(status["study"], status["item"], status["final"], strict=True):
        parts = str(item).split("|")
        table, field = parts[0], parts[-1]
        outcome = parts[1] if table in ("value", "outcome", "effect", "availability") else ""
        arm = parts[2] if table == "value" else (parts[1] if table == "arm" else "")
        label = parts[2] if table == "effect" and len(parts) == 4 else ""
        rows.append((study, table, outcome, arm, label, field, final))
    columns = ["study", "table", "outcome", "arm", "comparison", "field", "value"]
    return pd.DataFrame(rows, columns=columns)
