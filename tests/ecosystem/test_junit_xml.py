"""JUnit XML through junitparser: control characters in names and messages still give well-formed XML."""

from __future__ import annotations

from xml.etree import ElementTree

from click.testing import CliRunner
from junitparser import Failure, JUnitXml

from callreplay.cli import main
from callreplay.junit import xml_safe
from callreplay.testing import business, inbound_call


def test_xml_safe_escapes_only_what_xml_forbids():
    assert xml_safe("tab\tnewline\ncr\r שלום") == "tab\tnewline\ncr\r שלום"
    assert xml_safe("a\x00b\x1b[31mc\x7f\ufffe") == "a\\x00b\\x1b[31mc\x7f\\ufffe"


def test_control_characters_in_a_scenario_give_parsable_junit(tmp_path):
    path = tmp_path / "ctl.yaml"
    path.write_text('name: "ctl\\x01name\\x1b[31m"\n', encoding="utf-8")
    import yaml

    body = {"businesses": [business(ai_prompt="")], "steps": inbound_call(talk="3s"), "expect": {"legacy": "clean"}}
    path.write_text(path.read_text() + yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")
    junit = tmp_path / "j.xml"
    result = CliRunner().invoke(main, ["run", str(path), "--no-html", "--report-dir", str(tmp_path / "r"),
                                       "--junit", str(junit)])
    assert result.exit_code == 1, result.output
    ElementTree.parse(junit)  # well-formed
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    (case,) = list(suite)
    assert case.name == "ctl\\x01name\\x1b[31m [legacy]"
    assert isinstance(case.result[0], Failure)
    assert "unexpected: error direction-contamination" in case.result[0].text
    assert suite.failures == 1 and suite.tests == 1
