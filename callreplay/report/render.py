"""Render ``index.html`` from the results directory with jinja2 (autoescaped)."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape


def _env() -> Environment:
    return Environment(loader=PackageLoader("callreplay.report", "templates"),
                       autoescape=select_autoescape(["html", "xml", "j2"]), keep_trailing_newline=True)


def render_reports(report_dir: Path, *, show_pii: bool = False) -> Path:
    report_dir = Path(report_dir)
    run = json.loads((report_dir / "run.json").read_text(encoding="utf-8"))
    html = _env().get_template("index.html.j2").render(run=run)
    index = report_dir / "index.html"
    index.write_text(html, encoding="utf-8")
    return index
