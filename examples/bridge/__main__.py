"""``python -m examples.bridge``: serve the bridge on 127.0.0.1:$PORT (configuration: docs/example-bridge.md)."""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

from examples.bridge.app import create_app
from examples.bridge.config import ConfigError, Settings


def main() -> int:
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as exc:
        print(f"examples.bridge: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.port, ws="websockets-sansio",
                log_level="info", lifespan="on")
    return 0


if __name__ == "__main__":
    sys.exit(main())
