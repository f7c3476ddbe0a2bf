"""The analysis plan, ``[analysis]`` of review.toml: defaults, the commented template,
overrides per outcome and construct group, and errors that name the line, key and what is
allowed."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from metasift.review import Protocol, ProtocolError, parse_protocol
from metasift.review._template import TEMPLATE
from metasift.review.analysis_plan import (
    AnalysisOptions,
    AnalysisPlan,
    PublicationBias,
    Sensitivity,
    SensitivitySet,
    analysis_errors,
    check_analysis_plan,
)

BASE = TEMPLATE.format(title="Peer support")
HEAD = BASE.split("\n[analysis]\n")[0]
SECTIONS = """[classification]
[classification.facets.setting]
categories = ["added", "established", "online"]
[classification.facets.comparator]
categories = ["CAU", "WL", "Other"]
[risk_of_bias]
[characteristics]
[characteristics.fields.explicit_aim]
type = "boolean"
[characteristics.fields.design]
type = "choice"
choices = ["parallel", "cluster"]
[outcomes.personal]
group = "recovery"
[outcomes.clinical]
group = "symptoms"
"""


def _text(analysis: str) -> str:
    head = HEAD.replace("[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n", "")
    return f"{head}\n{SECTIONS}\n{analysis}"


def _protocol(analysis: str):
    return parse_protocol(_text(analysis))


def _errors(analysis: str) -> list[tuple[int, str, str]]:
    with pytest.raises(ProtocolError) as caught:
        _protocol(analysis)
    return caught.value.errors


def _line(text: str, fragment: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


def test_the_template_documents_every_key_and_gives_the_defaults() -> None:
    plan = parse_protocol(BASE).analysis
    part = BASE.split("\n[analysis]\n")[1]
    keys = {*AnalysisPlan.model_fields, *Sensitivity.model_fields, *PublicationBias.model_fields}
    keys |= set(SensitivitySet.model_fields)
    written = set(re.findall(r"^#?\s*([a-z_0-9]+)\s*=", part, flags=re.MULTILINE))
    tables = set(re.findall(r"\[analysis\.([a-z_]+)", part))
    assert keys - written - tables == set()
    # the live keys of the template are the defaults of a review.toml without [analysis]
    empty = _protocol("").analysis
    assert plan == empty
    assert (plan.measure, plan.method, plan.test, plan.i2, plan.min_studies) == (
        "SMD",
        "REML",
        "z",
        "q",
        2,
    )
    assert plan.publication_bias.min_studies == 10 and plan.sensitivity.leave_one_out
    assert plan.subgroups is None  # every facet, pre-specified


def test_old_style_plain_keys_still_read() -> None:
    plan = _protocol('[analysis]\nmulti_arm = "split"\neffects = "reported"\n').analysis
    assert plan.multi_arm == "split" and plan.effects == "reported"
    assert plan.get("multi_arm", "combine") == "split" and plan.get("nothing", 3) == 3


def test_subgroups_as_list_or_table_and_sensitivity_sets() -> None:
    plan = _protocol(
        """[analysis]
subgroups = {setting = "pre-specified", comparator = "post hoc"}
[analysis.sensitivity]
leave_one_out = false
[analysis.sensitivity.no_poor]
exclude = {quality = ["poor"], explicit_aim = [false, ""]}
description = "poor quality and no explicit aim left out"
"""
    ).analysis
    assert plan.subgroups == {"setting": "pre-specified", "comparator": "post hoc"}
    assert not plan.sensitivity.leave_one_out
    assert list(plan.sensitivity.sets) == ["no_poor"]
    assert plan.sensitivity.sets["no_poor"].exclude == {
        "quality": ["poor"],
        "explicit_aim": [False, ""],
    }
    listed = _protocol('[analysis]\nsubgroups = ["setting"]\n').analysis
    assert listed.subgroups == {"setting": "pre-specified"}


def test_overrides_apply_group_then_outcome() -> None:
    plan = _protocol(
        """[analysis]
test = "knha"
min_studies = 3
[analysis.groups.recovery]
method = "DL"
min_studies = 4
[analysis.outcomes.personal]
min_studies = 5
[analysis.outcomes.personal.publication_bias]
min_studies = 12
"""
    ).analysis
    personal = plan.settings("personal", "recovery")
    assert (personal.method, personal.test, personal.min_studies) == ("DL", "knha", 5)
    assert personal.publication_bias.min_studies == 12
    clinical = plan.settings("clinical", "symptoms")
    assert (clinical.method, clinical.test, clinical.min_studies) == ("REML", "knha", 3)
    assert clinical.publication_bias.min_studies == 10
    assert isinstance(clinical, AnalysisOptions) and not isinstance(clinical, AnalysisPlan)


@pytest.mark.parametrize(
    ("line", "key", "message"),
    [
        ('test = "t"', "analysis.test", "'t' is not known; allowed: ('z', 'knha', 'adhoc')"),
        ('method = "XX"', "analysis.method", "'XX' is not a tau^2 estimator; allowed:"),
        ('measure = "HR"', "analysis.measure", "'HR' is not known; allowed: SMD, MD, ROM"),
        ('effects = "both"', "analysis.effects", "Input should be 'arms' or 'reported'"),
        ('i2 = "h"', "analysis.i2", "Input should be 'q' or 'tau2'"),
        ("min_studies = 0", "analysis.min_studies", "greater than or equal to 1"),
        ("level = 95", "analysis.level", "less than 1"),
        ('subgroups = {setting = "maybe"}', "analysis.subgroups.setting", "'pre-specified'"),
        ('comparators = "split"', "analysis.comparators", "'together' or 'apart'"),
        ("typo = 1", "analysis.typo", "Extra inputs are not permitted"),
    ],
)
def test_schema_errors_name_line_key_and_allowed(line: str, key: str, message: str) -> None:
    analysis = f"[analysis]\n{line}\n"
    errors = _errors(analysis)
    assert len(errors) == 1
    number, found_key, found = errors[0]
    assert found_key == key and message in found
    assert number == _line(_text(analysis), line)


def test_cross_checks_name_facets_categories_fields_outcomes(tmp_path: Path) -> None:
    analysis = """[analysis]
subgroups = ["setting", "provider"]
comparators = "apart"
comparator_facet = "control"
[analysis.sensitivity.cut]
exclude = {setting = ["hospital"], design = ["crossover"], explicit_aim = [false], age = [1]}
[analysis.outcomes.mood]
method = "DL"
[analysis.groups.recovery]
method = "DL"
[analysis.groups.wellbeing]
method = "DL"
"""
    # the schema is fine; the names are not
    protocol = Protocol.model_validate(tomllib.loads(_text(analysis)))
    found = {(".".join(map(str, loc)), message) for loc, message in analysis_errors(protocol)}
    expected_keys = {
        "analysis.subgroups",
        "analysis.comparator_facet",
        "analysis.sensitivity.cut.exclude.setting",
        "analysis.sensitivity.cut.exclude.design",
        "analysis.sensitivity.cut.exclude.age",
        "analysis.outcomes.mood",
        "analysis.groups.wellbeing",
    }
    assert {key for key, _ in found} == expected_keys
    messages = dict(found)
    assert (
        "'provider' is not a facet of [classification.facets] (setting, comparator)"
        in (messages["analysis.subgroups"])
    )
    assert (
        "'hospital' is not one of ['added', 'established', 'online', '']"
        in (messages["analysis.sensitivity.cut.exclude.setting"])
    )
    assert (
        "'crossover' is not one of ['parallel', 'cluster', '']"
        in (messages["analysis.sensitivity.cut.exclude.design"])
    )
    assert (
        "'age' is not 'quality', a [classification.facets] facet"
        in (messages["analysis.sensitivity.cut.exclude.age"])
    )
    path = tmp_path / "review.toml"
    text = _text(analysis)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError) as caught:
        check_analysis_plan(protocol, path)
    lines = {key: line for line, key, _ in caught.value.errors}
    assert lines["analysis.subgroups"] == _line(text, 'subgroups = ["setting", "provider"]')
    assert lines["analysis.groups.wellbeing"] == _line(text, "[analysis.groups.wellbeing]")
    assert str(path) in str(caught.value)
    # reading review.toml reports the same problems, with their lines
    read = {key: line for line, key, _ in _errors(analysis)}
    assert read == lines
