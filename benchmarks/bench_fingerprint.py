"""Content fingerprints of a full-size (8,000-character) prompt: the cost of the content proof.

Prints the best of several runs for the fast fingerprint beside a reference measured in the same
run (splitting the same text into words, the floor any shingling pays), and the core count.
"""

from __future__ import annotations

import os
import time

from callreplay.detectors.fingerprint import fingerprint

RUNS = 20


def best_of(fn) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    text = (" ".join(f"סעיף {i} מילה{i} Word{i}" for i in range(1000)))[:8000]
    fp = best_of(lambda: fingerprint(text))
    ref = best_of(lambda: text.split())
    print(f"cores: {os.cpu_count()}")
    print(f"fingerprint of 8,000 chars: {fp * 1000:.2f} ms (best of {RUNS}); reference str.split: {ref * 1000:.3f} ms")


if __name__ == "__main__":
    main()
