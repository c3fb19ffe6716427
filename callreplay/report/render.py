"""Render the HTML reports of a results directory: ``index.html`` and ``scenarios/<slug>.html``.

Everything goes through jinja2 with autoescaping on; when ``show_pii`` is false every value printed is
passed through :func:`callreplay.redact.redact_text` again (the results are already redacted; this is the
belt to their braces). Output depends only on the results: no machine paths, no set or dict-order
randomness, and the only wall-clock value shown is the run's ``started_at`` on the index.
"""

from __future__ import annotations

import multiprocessing
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from ..atomic_write import write_text_atomic
from ..redact import MIN_PRIVATE_CHARS, redact, redact_text
from .index import index_context
from .instructions import ScenarioSources
from .load import cited_seqs, load_result, read_json, read_trace, summary, trace_path
from .scenario_page import scenario_context
from .status import fmt_us
from .tables import write_csv

PAGES = "scenarios"


@lru_cache(maxsize=65536)
def _mask(text: str) -> str:
    return redact_text(text)


def mask(value: Any) -> Any:
    """``redact_text`` for strings that could hold a phone number or credential."""
    if isinstance(value, str) and not isinstance(value, Markup) and len(value) >= MIN_PRIVATE_CHARS:
        return _mask(value)
    return value


def make_env(show_pii: bool) -> Environment:
    def finalize(value: Any) -> Any:
        if value is None:
            return ""
        return value if show_pii else mask(value)

    env = Environment(loader=PackageLoader("callreplay.report", "templates"), autoescape=True,
                      finalize=finalize, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["dur"] = fmt_us
    return env


def _groups(entries: list[dict[str, Any]]) -> dict[tuple[str, str], list[int]]:
    """Indexes of the entries of each scenario (file and name), in run order."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, entry in enumerate(entries):
        if entry.get("result_file"):
            groups.setdefault((str(entry.get("file")), str(entry.get("scenario"))), []).append(i)
    return groups


def _clean_pages(pages: Path) -> None:
    """Remove pages and CSVs a previous render left (they could describe results that no longer exist)."""
    for old in sorted(pages.glob("*.html")) + sorted(pages.glob("*.csv")):
        old.unlink()


class _PageWriter:
    """Writes scenario pages. Pages are independent; they are written one after the other because a
    process pool measured slower than one process on the 2-vCPU CI sandbox."""

    def __init__(self, report_dir: Path, entries: list[dict[str, Any]], show_pii: bool) -> None:
        self.report_dir, self.entries, self.show_pii = report_dir, entries, show_pii
        self.groups = _groups(entries)
        self.template = make_env(show_pii).get_template("scenario.html.j2")
        self.sources = ScenarioSources(report_dir)
        self._summaries: dict[int, dict[str, Any] | None] = {}

    def _summary(self, index: int) -> dict[str, Any] | None:
        """A sibling's summary, read once per process (every page of a scenario lists its other profiles)."""
        if index not in self._summaries:
            self._summaries[index] = summary(load_result(self.report_dir, self.entries[index]))
        return self._summaries[index]

    def write(self, index: int) -> dict[str, Any] | None:
        """Render the page of entry ``index``; return the result's summary for the index page."""
        entry = self.entries[index]
        result = load_result(self.report_dir, entry)
        if not result or not result.get("slug"):
            return summary(result)
        pages, slug = self.report_dir / PAGES, str(result["slug"])
        trace = read_trace(trace_path(self.report_dir, result), cited_seqs(result))
        group = self.groups.get((str(entry.get("file")), str(entry.get("scenario"))), [])
        siblings = [s for s in (self._summary(i) for i in group if i != index) if s and s.get("slug")]
        ctx = scenario_context(result, entry, trace, siblings, self.sources)
        for table in ctx["tables"]:
            write_csv(table, pages, slug, show_pii=self.show_pii)
        write_text_atomic(pages / f"{slug}.html", self.template.render(ctx))
        return summary(result)


PARALLEL_FROM_PAGES = 40
_worker_writer: _PageWriter | None = None


def _init_worker(writer: _PageWriter) -> None:
    global _worker_writer
    _worker_writer = writer


def _write_in_worker(index: int):
    assert _worker_writer is not None, "the pool initialiser sets the writer"
    return _worker_writer.write(index)


def _write_pages(writer: _PageWriter) -> list:
    """Every scenario page, in order; pages are independent, so many are written by a forked pool."""
    count = len(writer.entries)
    workers = min(os.cpu_count() or 1, 8)
    if count < PARALLEL_FROM_PAGES or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [writer.write(i) for i in range(count)]
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(writer,)) as pool:
        return pool.map(_write_in_worker, range(count), chunksize=max(1, count // (workers * 4)))


def render_reports(report_dir: Path, *, show_pii: bool = False) -> Path:
    """Write ``index.html``, one page per scenario x profile, and each page's tables as CSV; return the index."""
    report_dir = Path(report_dir)
    run = read_json(report_dir / "run.json")
    pages = report_dir / PAGES
    pages.mkdir(parents=True, exist_ok=True)
    _clean_pages(pages)
    writer = _PageWriter(report_dir, list(run.get("results") or []), show_pii)
    summaries = _write_pages(writer)
    ctx = index_context(run, summaries)
    if not show_pii:
        ctx["run_data"] = redact(ctx["run_data"])
    for table in ctx["tables"]:
        write_csv(table, report_dir, "index", show_pii=show_pii)
    index = report_dir / "index.html"
    write_text_atomic(index, make_env(show_pii).get_template("index.html.j2").render(ctx))
    return index
