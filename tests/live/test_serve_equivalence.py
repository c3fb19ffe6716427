"""``callreplay serve`` is the model as a real server: live mode against it finds what in-process finds."""

from __future__ import annotations

import pytest
from helpers import ROOT, shortened

from callreplay.live.equivalence import compare_many

pytestmark = pytest.mark.live

SUBSET = [  # one healthy replay, a protocol fault, and contamination proved from the wire alone
    ("audio/clean-stream.yaml", "hardened"),
    ("audio/network-faults.yaml", "fixed"),
    ("tenants/contact-channel-number.yaml", "legacy"),
]


def test_representative_subset_gives_the_same_findings_in_process_and_live(tmp_path):
    # each cut to 4 s of audio: the fault and the contamination show in the first seconds, in both targets
    pairs = [(shortened(ROOT / "scenarios" / name, tmp_path / name.split("/")[0], "4s", "6s"), profile)
             for name, profile in SUBSET]
    results = compare_many(pairs, parallel=3, cwd=ROOT)
    for comparison in results:
        assert comparison.equal, (f"{comparison.scenario} [{comparison.profile}]: in-process "
                                  f"{sorted(comparison.in_process)} vs live {sorted(comparison.live)}\n"
                                  f"{comparison.output}")
    assert any(c.in_process for c in results) and any(not c.in_process for c in results)
