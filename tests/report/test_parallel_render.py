"""Pages rendered by the forked pool are byte-identical to pages rendered one by one."""

import shutil
from pathlib import Path

import callreplay.report.render as render
from callreplay.runner import RunOptions, run_all

ROOT = Path(__file__).resolve().parents[2]


def _pages(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix in (".html", ".csv")}


def test_parallel_and_serial_rendering_agree(tmp_path, monkeypatch):
    serial = tmp_path / "serial"
    run_all([ROOT / "scenarios" / "cache", ROOT / "scenarios" / "outbound"], RunOptions(report_dir=serial))
    parallel = tmp_path / "parallel"
    shutil.copytree(serial, parallel)
    monkeypatch.setattr(render, "PARALLEL_FROM_PAGES", 10**6)
    render.render_reports(serial)
    monkeypatch.setattr(render, "PARALLEL_FROM_PAGES", 1)
    render.render_reports(parallel)
    a, b = _pages(serial), _pages(parallel)
    assert len(a) > 4 and a.keys() == b.keys()
    differing = [name for name in a if a[name] != b[name] and name != "index.html"]
    assert differing == []
