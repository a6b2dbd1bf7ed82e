"""Run the studio: uvicorn on a socket bound here, until Ctrl-C.

The socket is bound before uvicorn starts, so a port in use is a clear error (exit 2) and
`--port 0` gets a free port whose address is printed. On Ctrl-C uvicorn stops serving; the
open event streams are ended at once (otherwise a graceful shutdown would wait for them
forever) and the worker processes are stopped even mid-proof, with any further Ctrl-C held
back (guidekb.interrupts.defer) until they are; then the interrupt is raised, which `guidekb`
turns into exit status 130 without a traceback.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import webbrowser
from pathlib import Path
from types import FrameType

import uvicorn

from guidekb import interrupts
from guidekb.engine.errors import GuidekbError
from guidekb.studio.app import LOOPBACK_HOSTS, create_app
from guidekb.studio.state import Studio

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class StudioError(GuidekbError):
    """The studio cannot start (the address is in use, say): exit 2 with this message."""


class _StudioServer(uvicorn.Server):
    """uvicorn's server, which also ends the studio's event streams when asked to stop."""

    def __init__(self, config: uvicorn.Config, studio: Studio) -> None:
        super().__init__(config)
        self.studio = studio
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Stopping has begun: a second Ctrl-C, or guidekb's re-delivery of the first, must not
        # cut the stopping of the workers short (it would leak their semaphores, which the
        # resource tracker then reports on the terminal). serve() raises it once all is done.
        interrupts.defer()
        super().handle_exit(sig, frame)
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.studio.end_streams)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (IPv6 when the host is one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise StudioError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                          "choose another --port (0 picks a free one)") from None
    sock.set_inheritable(True)
    return sock


def graphical_session() -> bool:
    """Whether opening a browser can show a window. Without one (over ssh, in a container),
    Python's `webbrowser` would start a text browser such as lynx in this very terminal."""
    if sys.platform in ("darwin", "win32") or os.environ.get("BROWSER"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def page_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(root: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_browser: bool = True,
          announce: bool = True) -> None:
    """Serve the studio of the knowledge base in `root` until Ctrl-C."""
    sock = bind(host, port)
    loopback = host.strip("[]") in {h.strip("[]") for h in LOOPBACK_HOSTS}
    studio = Studio(root.resolve())
    app = create_app(studio, allowed_hosts=None if loopback else ["*"])
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=2)
    server = _StudioServer(config, studio)
    url = page_url(sock)
    if announce:
        from guidekb.console import console, shown

        console.print(f"guidekb studio: {shown(url)} shows {shown(str(root))} (Ctrl-C stops)",
                      soft_wrap=True, highlight=False)
        if not loopback:
            console.print("[yellow]warning:[/yellow] listening beyond this computer: anyone who can "
                          "reach it can read the knowledge base and save scenarios into it",
                          soft_wrap=True)
    if open_browser and graphical_session():
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    elif open_browser and announce:
        from guidekb.console import console

        console.print("no graphical session here: open the address above in a browser",
                      soft_wrap=True, highlight=False)
    try:
        server.run(sockets=[sock])
    finally:
        interrupts.defer()
        try:
            sock.close()
            _release_worker_queues()
        finally:
            interrupts.resume()  # Ctrl-C: KeyboardInterrupt, which guidekb turns into 130


def _release_worker_queues() -> None:
    """Run multiprocessing's exit-time finalizers now. `guidekb` ends an interrupted run with
    `os._exit` (guidekb.cli), which skips them, and the semaphores of the worker queues would
    then be reported by the resource tracker, on the terminal, as leaked."""
    from multiprocessing import util

    run_finalizers = getattr(util, "_run_finalizers", None)
    if run_finalizers is not None:
        run_finalizers(0)


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "StudioError", "bind", "page_url", "serve"]
