"""Rendering from saved results: escaping, determinism, CSV export, masking, re-rendering."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from callreplay.cli import main
from callreplay.report import render_reports

LEGACY = "incident-inbound-gets-outbound-prompt--legacy"


class _Elements(HTMLParser):
    """Every element and attribute name a browser would see in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.handlers += [(tag, name) for name, _ in attrs if name.startswith("on")]


def _elements(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def _pages(report_dir: Path) -> list[Path]:
    return [report_dir / "index.html", *sorted((report_dir / "scenarios").glob("*.html"))]


def test_xss_payloads_render_as_text(xss_copy):
    render_reports(xss_copy)
    pages = _pages(xss_copy)
    assert len(pages) == 3
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<script>window" not in html, page.name
        elements = _elements(html)
        assert "img" not in elements.tags and elements.handlers == [], page.name
        assert elements.tags.count("script") == (2 if page.name == "index.html" else 1), page.name
        assert "&lt;script&gt;window.__xss" in html, page.name   # the payload is there, as text


def test_json_embedded_in_script_cannot_close_it(xss_copy):
    html = render_reports(xss_copy).read_text(encoding="utf-8")
    blob = html.split('<script type="application/json" id="run-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in blob
    assert "xss" in json.loads(blob)["command"] or json.loads(blob)["profiles"]


def test_render_twice_is_byte_identical(incident_copy):
    render_reports(incident_copy)
    first = {p: p.read_bytes() for p in sorted(incident_copy.rglob("*")) if p.suffix in (".html", ".csv")}
    render_reports(incident_copy)
    second = {p: p.read_bytes() for p in sorted(incident_copy.rglob("*")) if p.suffix in (".html", ".csv")}
    assert first == second
    assert len(first) > 10


def test_only_the_timestamp_differs_between_runs(incident_copy, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(incident_copy, other)
    run = json.loads((other / "run.json").read_text(encoding="utf-8"))
    run["started_at"] = "1999-01-01T00:00:00+00:00"
    for entry in run["results"]:
        entry["wall_s"] = 123.0   # wall-clock durations are not shown
    (other / "run.json").write_text(json.dumps(run), encoding="utf-8")
    render_reports(incident_copy)
    render_reports(other)
    for page in _pages(incident_copy):
        a = page.read_text(encoding="utf-8").splitlines()
        b = (other / page.relative_to(incident_copy)).read_text(encoding="utf-8").splitlines()
        assert len(a) == len(b)
        diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        if page.name == "index.html":
            assert len(diff) == 1 and 'id="started-at"' in diff[0][0]
        else:
            assert diff == []


def test_no_machine_paths_beyond_the_results(incident_copy):
    render_reports(incident_copy)
    for page in _pages(incident_copy):
        html = page.read_text(encoding="utf-8")
        assert str(incident_copy) not in html


def test_every_table_is_exported_as_csv(incident_copy):
    render_reports(incident_copy)
    pages = incident_copy / "scenarios"
    findings = pd.read_csv(pages / f"{LEGACY}-findings.csv")
    assert list(findings.columns) == ["#", "severity", "detector", "call", "at", "expected", "message"]
    assert set(findings["detector"]) >= {"direction-contamination", "prompt-outlived-ttl"}
    assert not any(c.startswith("_") for c in findings.columns)
    html = (pages / f"{LEGACY}.html").read_text(encoding="utf-8")
    for csv in sorted(pages.glob(f"{LEGACY}-*.csv")):
        assert f'href="{csv.name}"' in html
    index = pd.read_csv(incident_copy / "index-matrix.csv")
    assert list(index.columns)[0] == "scenario" and {"fixed", "legacy"} <= set(index.columns)
    assert index.loc[0, "legacy"].startswith("expected findings: pass")
    assert index.loc[0, "fixed"].startswith("pass")


def test_phone_numbers_are_masked_unless_show_pii(xss_copy):
    result = next((xss_copy / "results").glob("*legacy.json"))
    doc = json.loads(result.read_text(encoding="utf-8"))
    doc["scenario"]["description"] += " call +972509876543"  # as if a result had slipped through unredacted
    result.write_text(json.dumps(doc), encoding="utf-8")
    render_reports(xss_copy)
    texts = [p.read_text(encoding="utf-8") for p in sorted(xss_copy.rglob("*")) if p.suffix in (".html", ".csv")]
    assert not any("+972509876543" in t for t in texts)
    assert any("+972*******43" in t for t in texts)
    render_reports(xss_copy, show_pii=True)
    page = next((xss_copy / "scenarios").glob("*legacy.html")).read_text(encoding="utf-8")
    assert "+972509876543" in page


def test_report_command_rerenders_a_copied_results_dir(incident_copy):
    (incident_copy / "index.html").unlink(missing_ok=True)
    result = CliRunner().invoke(main, ["report", str(incident_copy)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"report: {incident_copy / 'index.html'}"
    assert (incident_copy / "scenarios" / f"{LEGACY}.html").is_file()


def test_missing_scenario_file_and_trace_are_said(incident_copy):
    result = incident_copy / "results" / f"{LEGACY}.json"
    doc = json.loads(result.read_text(encoding="utf-8"))
    doc["scenario"]["file"] = "gone/nowhere.yaml"
    result.write_text(json.dumps(doc), encoding="utf-8")
    (incident_copy / doc["trace_file"]).unlink()
    render_reports(incident_copy)
    html = (incident_copy / "scenarios" / f"{LEGACY}.html").read_text(encoding="utf-8")
    # the result carries its businesses, so the configured prompt survives the scenario file
    assert "configured ai_prompt of business 7" in html and "EMPTY" in html
    assert "the trace file is missing" in html
    del doc["scenario"]["businesses"]  # an older result without them falls back to the file, and says it is gone
    result.write_text(json.dumps(doc), encoding="utf-8")
    render_reports(incident_copy)
    html = (incident_copy / "scenarios" / f"{LEGACY}.html").read_text(encoding="utf-8")
    assert "the scenario file gone/nowhere.yaml is gone" in html


def test_index_has_no_evidence_only_links(incident_copy):
    html = render_reports(incident_copy).read_text(encoding="utf-8")
    assert f'href="scenarios/{LEGACY}.html#finding-' in html
    assert "4-gram shingles" not in html   # evidence text lives on the scenario page only


def test_a_scenario_that_did_not_load_shows_as_an_error(incident_copy):
    run = json.loads((incident_copy / "run.json").read_text(encoding="utf-8"))
    run["results"].append({"file": "bad.yaml", "scenario": "bad.yaml", "profile": "-", "status": "error",
                           "error": "bad.yaml:3 steps[0]: <script>alert(1)</script>", "result_file": None,
                           "counts": {"error": 0, "warning": 0, "info": 0}, "tags": [], "detectors": []})
    (incident_copy / "run.json").write_text(json.dumps(run), encoding="utf-8")
    html = render_reports(incident_copy).read_text(encoding="utf-8")
    assert "ERROR: did not run" in html
    assert "bad.yaml:3 steps[0]: &lt;script&gt;alert(1)&lt;/script&gt;" in html
