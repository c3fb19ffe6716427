"""Render the HTML reports of a results directory: ``index.html`` and ``scenarios/<slug>.html``.

Everything goes through jinja2 with autoescaping on; when ``show_pii`` is false every value printed is
passed through :func:`callreplay.redact.redact_text` again (the results are already redacted; this is the
belt to their braces). Output depends only on the results: no machine paths, no set or dict-order
randomness, and the only wall-clock value shown is the run's ``started_at`` on the index.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from ..redact import redact, redact_text
from .index import index_context
from .instructions import ScenarioSources
from .load import cited_seqs, load_results, read_json, read_trace, trace_path
from .scenario_page import scenario_context
from .tables import write_csv

PAGES = "scenarios"
PARALLEL_MIN_PAGES = 48  # fewer pages render faster in this process than a pool starts
MAX_WORKERS = 8
MIN_SECRET_CHARS = 9  # the shortest text redact_text can change: a 9-character phone number


@lru_cache(maxsize=65536)
def _mask(text: str) -> str:
    return redact_text(text)


def mask(value: Any) -> Any:
    """``redact_text`` for strings that could hold a phone number or credential (9+ characters)."""
    if isinstance(value, str) and not isinstance(value, Markup) and len(value) >= MIN_SECRET_CHARS:
        return _mask(value)
    return value


def make_env(show_pii: bool) -> Environment:
    def finalize(value: Any) -> Any:
        if value is None:
            return ""
        return value if show_pii else mask(value)

    env = Environment(loader=PackageLoader("callreplay.report", "templates"), autoescape=True,
                      finalize=finalize, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env


def _siblings(run: dict[str, Any], results: list[dict[str, Any] | None]) -> dict[tuple[str, str], list[dict]]:
    """Results of the same scenario (file and name), in run order."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry, result in zip(run.get("results") or [], results):
        if result and result.get("slug"):
            groups.setdefault((str(entry.get("file")), str(entry.get("scenario"))), []).append(result)
    return groups


def _clean_pages(pages: Path) -> None:
    """Remove pages and CSVs a previous render left (they could describe results that no longer exist)."""
    for old in sorted(pages.glob("*.html")) + sorted(pages.glob("*.csv")):
        old.unlink()


class _PageWriter:
    """Writes scenario pages; one per process when pages are rendered in parallel."""

    def __init__(self, report_dir: Path, run: dict[str, Any], results: list[dict[str, Any] | None],
                 show_pii: bool) -> None:
        self.report_dir, self.run, self.results, self.show_pii = report_dir, run, results, show_pii
        self.groups = _siblings(run, results)
        self.template = make_env(show_pii).get_template("scenario.html.j2")
        self.sources = ScenarioSources(report_dir)

    def write(self, index: int) -> None:
        entry, result = self.run["results"][index], self.results[index]
        if not result or not result.get("slug"):
            return
        pages, slug = self.report_dir / PAGES, str(result["slug"])
        trace = read_trace(trace_path(self.report_dir, result), cited_seqs(result))
        group = self.groups.get((str(entry.get("file")), str(entry.get("scenario"))), [])
        ctx = scenario_context(result, entry, trace, [r for r in group if r is not result], self.sources)
        for table in ctx["tables"]:
            write_csv(table, pages, slug, show_pii=self.show_pii)
        (pages / f"{slug}.html").write_text(self.template.render(ctx), encoding="utf-8")


_WORKER: _PageWriter | None = None  # set in each forked worker; lives only for one render_reports call


def _work(indexes: list[int]) -> None:
    assert _WORKER is not None
    for i in indexes:
        _WORKER.write(i)


def _write_pages(writer: _PageWriter, count: int) -> None:
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if count < PARALLEL_MIN_PAGES or workers < 2 or "fork" not in mp.get_all_start_methods():
        for i in range(count):
            writer.write(i)
        return
    global _WORKER
    _WORKER = writer  # inherited by the forked workers: the results are not pickled
    try:
        chunks = [list(range(start, count, workers * 4)) for start in range(workers * 4)]
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            for _ in pool.map(_work, chunks):
                pass
    finally:
        _WORKER = None


def render_reports(report_dir: Path, *, show_pii: bool = False) -> Path:
    """Write ``index.html``, one page per scenario x profile, and each page's tables as CSV; return the index."""
    report_dir = Path(report_dir)
    run = read_json(report_dir / "run.json")
    results = load_results(report_dir, run)
    pages = report_dir / PAGES
    pages.mkdir(parents=True, exist_ok=True)
    _clean_pages(pages)
    _write_pages(_PageWriter(report_dir, run, results, show_pii), len(results))
    ctx = index_context(run, results)
    if not show_pii:
        ctx["run_data"] = redact(ctx["run_data"])
    for table in ctx["tables"]:
        write_csv(table, report_dir, "index", show_pii=show_pii)
    index = report_dir / "index.html"
    index.write_text(make_env(show_pii).get_template("index.html.j2").render(ctx), encoding="utf-8")
    return index
