"""Render the HTML reports of 500 synthetic scenario x profile results and print the time and sizes.

The results are copies of the incident's two replays (``callreplay run scenarios/incident``) under 250
scenario names, sharing the two trace files. Run: ``python benchmarks/bench_report.py [N]``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's callreplay, not an installed one

from callreplay.report import render_reports
from callreplay.runner import RunOptions, run_all

ROOT = Path(__file__).resolve().parents[1]


def synthesise(out: Path, n: int) -> None:
    sample = out / "sample"
    run_all([ROOT / "scenarios" / "incident"], RunOptions(report_dir=sample), command="bench")
    base = json.loads((sample / "run.json").read_text(encoding="utf-8"))
    target = out / "reports"
    (target / "results").mkdir(parents=True)
    (target / "traces").mkdir()
    templates = []
    for entry in base["results"]:
        result = json.loads((sample / entry["result_file"]).read_text(encoding="utf-8"))
        (target / result["trace_file"]).write_bytes((sample / result["trace_file"]).read_bytes())
        templates.append((entry, result))
    entries = []
    for i in range(n):
        entry, result = templates[i % len(templates)]
        name = f"{result['scenario']['name']}-{i // len(templates):03d}"
        slug = f"{name}--{result['profile']['name']}"
        body = dict(result, slug=slug, scenario=dict(result["scenario"], name=name,
                                                     tags=[*result["scenario"]["tags"], f"group-{i % 7}"]))
        (target / "results" / f"{slug}.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        entries.append(dict(entry, scenario=name, result_file=f"results/{slug}.json", tags=body["scenario"]["tags"]))
    run = dict(base, results=entries, totals={"pass": n, "fail": 0, "error": 0, "skipped": 0})
    (target / "run.json").write_text(json.dumps(run, ensure_ascii=False), encoding="utf-8")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        synthesise(out, n)
        started = time.perf_counter()
        index = render_reports(out / "reports")
        seconds = time.perf_counter() - started
        pages = sorted((out / "reports" / "scenarios").glob("*.html"))
        total = sum(p.stat().st_size for p in pages)
        print(f"results rendered: {n}")
        print(f"render seconds:   {seconds:.2f}")
        print(f"index.html size:  {index.stat().st_size / 1024:.1f} KiB")
        print(f"scenario pages:   {len(pages)}, mean {total / max(len(pages), 1) / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
