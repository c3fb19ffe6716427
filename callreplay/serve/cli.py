"""``callreplay serve``: run the in-process model as a real server on a loopback port."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ..errors import CallReplayError
from ..live.guard import is_loopback


def _businesses(scenario: Path | None, businesses: Path | None):
    from ..scenario.load import load_scenario

    if scenario is not None:
        loaded = load_scenario(scenario)
        return loaded.businesses, dict(loaded.overrides)
    if businesses is not None:
        from ..live.fixtures import businesses_from_json

        return businesses_from_json(json.loads(businesses.read_text(encoding="utf-8"))), {}
    env = os.environ.get("CALLREPLAY_BUSINESSES_FILE")
    if env:
        from ..live.fixtures import businesses_from_json

        return businesses_from_json(json.loads(Path(env).read_text(encoding="utf-8"))), {}
    raise click.UsageError("serve needs businesses: --scenario FILE, --businesses FILE or CALLREPLAY_BUSINESSES_FILE")


@click.command("serve")
@click.option("--profile", "profile_name", default="fixed", show_default=True, help="The model's profile.")
@click.option("--listen", default="127.0.0.1:8000", show_default=True, metavar="HOST:PORT",
              help="Where to listen (loopback only).")
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Take the businesses and pipeline settings from this scenario.")
@click.option("--businesses", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON list of businesses (the file `callreplay exec` writes; also CALLREPLAY_BUSINESSES_FILE).")
def serve(profile_name: str, listen: str, scenario: Path | None, businesses: Path | None) -> None:
    """Serve the in-process model as a real server: webhooks, the Media Streams socket, and a realtime session
    mirrored to OPENAI_REALTIME_URL; outbound REST calls go to TWILIO_API_BASE. A reference target for live mode."""
    import uvicorn

    from ..pipeline.profiles import load_profile
    from .runtime import ServeOptions, ServeRuntime
    from .server import build_app

    host, _, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit():
        raise click.BadParameter(f"{listen!r}: expected HOST:PORT", param_hint="--listen")
    if not is_loopback(host):
        raise click.BadParameter(f"{host!r} is not a loopback address; serve listens on 127.0.0.1 only",
                                 param_hint="--listen")
    port = int(os.environ.get("PORT", port_text)) if port_text == "0" else int(port_text)
    try:
        profile = load_profile(profile_name, allow_code=True)
        specs, overrides = _businesses(scenario, businesses)
    except CallReplayError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    options = ServeOptions(profile=profile, businesses=tuple(specs), overrides=overrides,
                           public_host=f"{host}:{port}", realtime_url=os.environ.get("OPENAI_REALTIME_URL"),
                           api_key=os.environ.get("OPENAI_API_KEY", "sk-callreplay-test"),
                           twilio_api_base=os.environ.get("TWILIO_API_BASE"),
                           auth_token=os.environ.get("TWILIO_AUTH_TOKEN", ""))
    runtime = ServeRuntime(options)
    click.echo(f"callreplay serve: profile {profile.name} on http://{host}:{port}", err=True)
    uvicorn.run(build_app(runtime), host=host, port=port, log_level="warning", lifespan="on")
