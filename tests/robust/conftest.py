"""The fuzzer's generators live in ``fuzz/`` at the repository root; make them importable under any pytest runner."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
