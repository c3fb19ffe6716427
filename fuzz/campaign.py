"""The long hostile-input campaign: N generated inputs against the loader, validate, run and the importers.

    python fuzz/campaign.py --inputs 100000 --out /tmp/campaign [--seed 1] [--max-seconds 3600]

Inputs are split between the targets (scenario files, which are loaded, validated and, when they
load, replayed with results written; capture, log and Twilio-export imports, whose output must
then load). It prints the figures (inputs, tracebacks, unlocated errors, imports that wrote an
invalid scenario) and writes every failing input with its traceback under ``--out``.
A failure never stops the campaign; the exit code is 1 if any input failed, else 0.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.oracle import check_import, check_scenario  # noqa: E402
from fuzz.strategies import GENERATORS  # noqa: E402

TARGETS = {"scenario": 0.85, "capture": 0.05, "logs": 0.05, "twilio-calls": 0.05}


class Campaign:
    def __init__(self, out: Path, max_seconds: float, keep: int) -> None:
        self.out, self.deadline, self.keep = out, time.monotonic() + max_seconds, keep
        self.counts: dict[str, Counter] = {t: Counter() for t in TARGETS}
        self.saved = 0
        self.started = time.monotonic()

    def check(self, target: str, text: str, seed: str) -> None:
        if time.monotonic() > self.deadline:
            self.counts[target]["not-run (time budget)"] += 1
            return
        with tempfile.TemporaryDirectory(prefix="callreplay-fuzz-") as folder:
            if target == "scenario":
                verdict = check_scenario(text, Path(folder))
            else:
                verdict = check_import(target, text, Path(folder))
        self.counts[target][verdict.kind] += 1
        if verdict.failed and self.saved < self.keep:
            self.saved += 1
            stem = self.out / f"{self.saved:04d}-{target}-{verdict.kind}"
            stem.with_suffix(".input").write_text(text, encoding="utf-8", errors="surrogatepass")
            stem.with_suffix(".why").write_text(f"seed {seed}\n{verdict.detail}", encoding="utf-8", errors="replace")

    def figures(self) -> dict:
        total = Counter()
        for counts in self.counts.values():
            total.update(counts)
        return {"inputs": sum(total.values()) - total["not-run (time budget)"],
                "tracebacks": total["traceback"], "unlocated": total["unlocated"],
                "imported_invalid": total["imported-invalid"], "seconds": round(time.monotonic() - self.started, 1),
                "by_target": {t: dict(c) for t, c in self.counts.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("fuzz-out"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=4 * 3600)
    parser.add_argument("--keep", type=int, default=200, help="failing inputs saved at most")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    campaign = Campaign(args.out, args.max_seconds, args.keep)
    progress_every = max(1, args.inputs // 40)
    names, weights = list(TARGETS), list(TARGETS.values())
    for index in range(args.inputs):
        rnd = random.Random(f"{args.seed}:{index}")   # input N of seed S is reproducible on its own
        target = rnd.choices(names, weights)[0]
        campaign.check(target, GENERATORS[target](rnd), f"{args.seed}:{index}")
        if (index + 1) % progress_every == 0:
            f = campaign.figures()
            print(f"{index + 1} inputs, {f['tracebacks']} tracebacks, {f['unlocated']} unlocated, "
                  f"{f['imported_invalid']} imported-invalid, {f['seconds']}s", flush=True)
    figures = campaign.figures()
    (args.out / "figures.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=1))
    return 1 if figures["tracebacks"] or figures["unlocated"] or figures["imported_invalid"] else 0


if __name__ == "__main__":
    sys.exit(main())
