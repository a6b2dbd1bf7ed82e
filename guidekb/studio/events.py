"""Server-sent events: one short message each time the studio's state changes.

The message carries only the new version number; the page then fetches `/api/state`. So an
event that arrives late or twice costs one request, and a page that reconnects (EventSource
does so by itself) catches up with one fetch. A comment line every `KEEPALIVE_SECONDS` keeps
proxies and the browser from closing an idle stream. The stream ends when the server stops.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from guidekb.studio.state import Studio

KEEPALIVE_SECONDS = 15.0
RETRY_MS = 1000  # how soon EventSource reconnects after the stream drops


async def state_events(studio: Studio) -> AsyncIterator[str]:
    """`state` events with the current version, first at once, then on every change."""
    yield f"retry: {RETRY_MS}\n\n"
    seen = -1
    while not studio.stopping.is_set():
        version = studio.version if seen == -1 else await studio.wait_for_change(seen, KEEPALIVE_SECONDS)
        if studio.stopping.is_set():
            break
        if version == seen:
            yield ": keep-alive\n\n"
            continue
        seen = version
        yield f"event: state\ndata: {json.dumps({'version': version})}\n\n"


__all__ = ["KEEPALIVE_SECONDS", "state_events"]
