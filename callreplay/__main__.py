"""``python -m callreplay`` is the ``callreplay`` command (same name, so `_CALLREPLAY_COMPLETE` completion works too)."""

from .cli import main

main(prog_name="callreplay")
