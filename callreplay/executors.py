"""Where replays run: in this process, in a local process pool, or on a Dask cluster.

The runner hands a list of independent work items to an executor and reads the outcomes back in
work order, so the results directory is the same for any executor and any worker count. The Dask
backend uses an existing ``dask.distributed`` scheduler (``--executor dask://HOST:PORT``); it
writes nothing on the workers' disks: a scenario's side files (WAV files, recordings) travel with
the task, and the trace each worker writes comes back to be written into the report dir here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic_write import write_text_atomic
from .errors import CallReplayError

if TYPE_CHECKING:  # pragma: no cover
    from .outcome import Outcome
    from .runner import RunOptions
    from .scenario.model import Scenario

DASK_PREFIX = "dask://"
# A replay holds the wall clock at virtual time (freezegun) in its worker thread; the worker's own event
# loop and heartbeats run meanwhile in other threads and must keep real time, or the scheduler drops it.
WORKER_REAL_TIME_MODULES = ["asyncio", "tornado", "distributed", "dask", "msgpack", "psutil"]
# Connecting to a scheduler that is not there must fail, not hang.
CONNECT_TIMEOUT_S = 30

# freezegun holds the clock of the whole process: two replays in threads of one worker would see each
# other's virtual time. A worker started with several threads still replays one task at a time.
_ONE_REPLAY_PER_PROCESS = threading.Lock()

WorkItem = tuple[Any, str, str | None, str]   # (scenario, profile, reason to skip, slug)
RunItem = Callable[[WorkItem, "RunOptions"], "Outcome"]


class ExecutorError(CallReplayError):
    """An ``--executor`` value that cannot be used (malformed, or no scheduler answers)."""


def parse_executor(text: str) -> str:
    """``local`` or ``dask://HOST:PORT``, checked; anything else is a clear usage error."""
    text = text.strip()
    if text == "local":
        return text
    if text.startswith(DASK_PREFIX):
        host, _, port = text[len(DASK_PREFIX):].rpartition(":")
        if host and port.isdigit() and 0 < int(port) < 65536:
            return text
    raise ExecutorError(f"unknown executor {text!r} (expected 'local' or 'dask://HOST:PORT', "
                        "e.g. dask://127.0.0.1:8786)")


def run_on_dask(address: str, work: list[WorkItem], options: RunOptions, run_item: RunItem) -> Iterator[Outcome]:
    """Outcomes in work order from the Dask scheduler at ``dask://HOST:PORT``; traces are written here."""
    try:
        from distributed import Client
    except ImportError:
        raise ExecutorError("the dask executor needs dask.distributed: pip install 'callreplay[dask]'") from None
    tcp = "tcp://" + address[len(DASK_PREFIX):]
    try:
        client = Client(tcp, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(f"no Dask scheduler answers at {address} ({exc})") from None
    with client:
        worker_options = dataclasses.replace(options, report_dir=Path("."))
        futures = [client.submit(run_shipped, ship(item), worker_options, run_item, pure=False) for item in work]
        for future in futures:   # in submission order: the output does not depend on who finished first
            outcome, trace_text = future.result()
            if trace_text is not None and options.write and outcome.result is not None:
                # already redacted on the worker (unless --show-pii); written atomically like every result file
                write_text_atomic(options.report_dir / outcome.result["trace_file"], trace_text)
            yield outcome


@dataclasses.dataclass(frozen=True)
class ShippedItem:
    """A work item with the bytes of every side file its scenario reads, keyed by the original path."""

    item: WorkItem
    files: dict[str, bytes]


def ship(item: WorkItem) -> ShippedItem:
    """Pack the side files a scenario names (``file:`` and ``recording:`` sources) with its work item."""
    files: dict[str, bytes] = {}
    for source in _sources(item[0]):
        if source.path is not None and str(source.path) not in files:
            try:
                files[str(source.path)] = Path(source.path).read_bytes()
            except OSError:
                continue  # the replay reports the missing file where it is read, as a local run does
    return ShippedItem(item, files)


def run_shipped(shipped: ShippedItem, options: RunOptions, run_item: RunItem) -> tuple[Outcome, str | None]:
    """On a worker: unpack the side files, replay, and return the outcome and the trace text written."""
    import freezegun

    freezegun.configure(extend_ignore_list=WORKER_REAL_TIME_MODULES)
    with _ONE_REPLAY_PER_PROCESS, tempfile.TemporaryDirectory(prefix="callreplay-worker-") as tmp:
        root = Path(tmp)
        scenario, profile, skip, slug = shipped.item
        local: dict[str, Path] = {}
        home = root / "scenario"   # the scenario's folder on this worker: side files are opened safely inside it
        for original, data in shipped.files.items():
            folder = home / hashlib.sha256(original.encode()).hexdigest()[:16]
            folder.mkdir(parents=True)
            target = folder / Path(original).name   # the name is kept: error messages quote it
            target.write_bytes(data)
            local[original] = target
        moved = _with_paths(scenario, local)
        if local:
            moved = dataclasses.replace(moved, side_files_root=home)
        item = (moved, profile, skip, slug)
        outcome = run_item(item, dataclasses.replace(options, report_dir=root / "report"))
        trace_text = None
        if outcome.result is not None and outcome.result.get("trace_file"):
            trace_path = root / "report" / outcome.result["trace_file"]
            if trace_path.is_file():
                trace_text = trace_path.read_text(encoding="utf-8")
    return outcome, trace_text


def _sources(scenario: Scenario) -> Iterator[Any]:
    for step in scenario.steps:
        media = getattr(step, "media", None)
        if media is not None:
            yield from media.sources


def _with_paths(scenario: Scenario, local: dict[str, Path]) -> Scenario:
    """The scenario with each shipped side file's path pointing at its copy on this worker."""
    if not local:
        return scenario
    from .scenario.model import Step, WsStep

    def moved(source: Any) -> Any:
        copy = local.get(str(source.path)) if source.path is not None else None
        return source if copy is None else dataclasses.replace(source, path=copy)

    steps: list[Step] = []
    for step in scenario.steps:
        if isinstance(step, WsStep) and step.media is not None:
            sources = tuple(moved(s) for s in step.media.sources)
            if sources != step.media.sources:
                step = dataclasses.replace(step, media=dataclasses.replace(step.media, sources=sources))
        steps.append(step)
    return dataclasses.replace(scenario, steps=tuple(steps))
