"""An error callreplay raises on purpose reaches the user as one line and exit code 2, from any command."""

from click.testing import CliRunner

from callreplay.cli import main
from callreplay.detectors.registry import DetectorLoadError


def test_a_broken_detector_plugin_is_one_line_not_a_traceback(monkeypatch):
    def broken():
        raise DetectorLoadError("cannot load detector entry point 'mine' (pkg.rules:Mine): No module named 'pkg'")

    monkeypatch.setattr("callreplay.cli.all_detectors", broken)
    result = CliRunner().invoke(main, ["detectors"])
    assert result.exit_code == 2
    assert "error: cannot load detector entry point 'mine'" in result.output
    assert "Traceback" not in result.output
