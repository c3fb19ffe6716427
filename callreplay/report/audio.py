"""The audio path of one call: gate counters and an RMS-over-time plot (from the already-downsampled
``rms_profile``) with the response turns and the bins where frames were dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..pipeline.constants import FRAME_US
from .status import fmt_us

PLOT_W, PLOT_H, PAD_L, PAD_B = 1000, 160, 52, 20
MAX_POINTS = 300  # a longer profile is merged pairwise again so the plot never grows past this
# Counters that say where frames went, in pipeline order; the rest of the counters follow alphabetically.
GATE_COUNTERS = (
    ("frames_in", "frames in from Twilio"),
    ("calibration_frames", "used for noise calibration"),
    ("frames_gated", "dropped by the gate"),
    ("frames_dropped_by_filters", "dropped by filters"),
    ("frames_dropped_by_queue_full", "dropped: queue full"),
    ("frames_dropped_closing", "dropped while closing"),
    ("stats_audio_blocked", "blocked (AI speaking / echo)"),
    ("stats_audio_sent", "forwarded to the model"),
    ("appended_frames", "appended to the realtime input"),
)


@dataclass
class RmsPlot:
    width: int
    height: int
    mean_points: str = ""
    max_points: str = ""
    dropped: list[dict[str, float | str]] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)
    y_ticks: list[dict[str, Any]] = field(default_factory=list)
    x_ticks: list[dict[str, Any]] = field(default_factory=list)
    threshold_y: float | None = None
    threshold: Any = None


def _merge(values: list[float], factor: int, how) -> list[float]:
    return [how(values[i:i + factor]) for i in range(0, len(values), factor)]


def rms_plot(call: dict[str, Any]) -> RmsPlot | None:
    prof = call.get("rms_profile") or {}
    mean, peak = list(prof.get("mean") or []), list(prof.get("max") or [])
    frames, fwd = list(prof.get("frames") or []), list(prof.get("forwarded") or [])
    if not mean:
        return None
    bin_us, t0 = int(prof.get("bin_us") or FRAME_US), int(prof.get("t0_us") or 0)
    factor = -(-len(mean) // MAX_POINTS)
    if factor > 1:
        mean = _merge(mean, factor, lambda v: sum(v) / len(v))
        peak = _merge(peak, factor, max) if peak else []
        frames, fwd = _merge(frames, factor, sum), _merge(fwd, factor, sum)
        bin_us *= factor
    span = max(bin_us * len(mean), 1)
    counters = call.get("counters") or {}
    threshold = counters.get("vad_threshold")
    top = max([*peak, *mean, threshold if isinstance(threshold, (int, float)) else 0, 1.0])
    plot = RmsPlot(PAD_L + PLOT_W + 10, PLOT_H + PAD_B + 10)

    def x(t_us: float) -> float:
        return round(PAD_L + min(max(t_us - t0, 0), span) * PLOT_W / span, 1)

    def y(v: float) -> float:
        return round(5 + PLOT_H - (v / top) * PLOT_H, 1)

    plot.mean_points = " ".join(f"{x(t0 + (i + .5) * bin_us)},{y(v)}" for i, v in enumerate(mean))
    plot.max_points = " ".join(f"{x(t0 + (i + .5) * bin_us)},{y(v)}" for i, v in enumerate(peak))
    for i, (n, f) in enumerate(zip(frames, fwd, strict=False)):
        if n > f:
            plot.dropped.append({"x": x(t0 + i * bin_us), "w": max(round(PLOT_W / len(mean), 1), 1.0),
                                 "title": f"{n - f} of {n} frames not forwarded around {fmt_us(t0 + i * bin_us)}"})
    for turn in call.get("turns") or []:
        start, dur = turn.get("t_us", 0), turn.get("duration_us") or 0
        if start + dur < t0 or start > t0 + span:
            continue
        plot.turns.append({"x": x(start), "w": max(round(x(start + dur) - x(start), 1), 1.0),
                           "title": f"response turn {turn.get('turn')} ({turn.get('reason')}) at {fmt_us(start)}"})
    if isinstance(threshold, (int, float)):
        plot.threshold_y, plot.threshold = y(threshold), threshold
    plot.y_ticks = [{"y": y(top * k / 4), "label": f"{top * k / 4:.0f}"} for k in range(5)]
    plot.x_ticks = [{"x": x(t0 + span * k / 5), "label": fmt_us(t0 + span * k // 5)} for k in range(6)]
    return plot


def gate_rows(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per gate counter (pipeline order), one column per call: where each call's frames went."""
    rows = []
    for key, meaning in GATE_COUNTERS:
        values = {str(c.get("call")): (c.get("counters") or {}).get(key, c.get(key)) for c in calls}
        if any(v is not None for v in values.values()):
            rows.append({"counter": key, "meaning": meaning, **values})
    return rows


def counter_rows(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The other counters, alphabetically, one column per call."""
    known = {k for k, _ in GATE_COUNTERS}
    keys = sorted({k for c in calls for k in (c.get("counters") or {})} - known)
    return [{"counter": k, **{str(c.get("call")): _text((c.get("counters") or {}).get(k)) for c in calls}}
            for k in keys]


def _text(value: Any) -> str:
    return "-" if value is None else str(value)
