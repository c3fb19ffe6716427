"""``python -m callreplay`` is the ``callreplay`` command."""

from .cli import main

main()
