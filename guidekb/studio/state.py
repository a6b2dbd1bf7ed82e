"""The studio page's state, recomputed on every save: validation first, then the rest.

Each save starts a new *generation*. Its work runs in order, each result published as soon as
it is ready, so the page shows the problems within a moment and the slower panels (flowcharts,
proofs, lint, source coverage) follow, each marked "checking" until then. A newer save cancels
what is still queued for an older generation.

A result is never shown as current when it is not: every panel carries the generation it was
computed for and `stale` (true while a newer generation is being checked, or when the
knowledge base now has problems and the panel could not be recomputed); the page greys stale
panels and says why.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guidekb.studio.lanes import Lane, WorkerCrashed

# Panels in the order they are computed, and the lane each runs in.
QUICK_PANELS = ("validation", "scenarios")
SLOW_PANELS = ("charts", "proofs", "lint", "coverage")
PANELS = QUICK_PANELS + SLOW_PANELS
WATCH_DEBOUNCE_MS = 100  # an editor's save-as-rename counts once; well inside a second


@dataclass
class Panel:
    """One part of the page: its status, the data of the generation it was computed for."""

    status: str = "waiting"  # waiting, checking, done, blocked (the KB has problems), failed
    generation: int = -1
    stale: bool = False
    message: str = ""
    data: Any = None

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "generation": self.generation, "stale": self.stale,
                "message": self.message, "data": self.data}


@dataclass
class Studio:
    """Everything the server knows about the knowledge base it shows."""

    root: Path
    generation: int = 0
    version: int = 0  # bumped on every change the page should fetch
    panels: dict[str, Panel] = field(default_factory=lambda: {name: Panel() for name in PANELS})
    svgs: list[str] = field(default_factory=list)  # the charts of panels["charts"].generation
    quick: Lane = field(default_factory=lambda: Lane("quick"))
    slow: Lane = field(default_factory=lambda: Lane("slow"))
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    notice: str = ""  # shown in the page's header: something the author must know
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _recompute: asyncio.Task[None] | None = None

    # --- publishing ---------------------------------------------------------------------------

    def publish(self) -> None:
        """Tell every open page that the state changed."""
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for_change(self, seen: int, timeout: float) -> int:
        """The version once it is newer than `seen` (or after `timeout` seconds, unchanged)."""
        if self.version == seen and not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return self.version

    def as_json(self) -> dict[str, Any]:
        panels = {name: panel.as_json() for name, panel in self.panels.items()}
        charts = panels["charts"]
        if charts["data"] is not None:  # the SVGs are fetched one by one, as images
            charts["data"] = {**charts["data"], "charts": [
                {"title": chart["title"], "url": f"/charts/{self.panels['charts'].generation}/{k}.svg"}
                for k, chart in enumerate(charts["data"]["charts"])]}
        return {"version": self.version, "generation": self.generation, "root": str(self.root),
                "notice": self.notice, "panels": panels}

    # --- recomputing --------------------------------------------------------------------------

    def changed(self) -> None:
        """A file was saved: start a new generation, dropping the work of the old one."""
        self.generation += 1
        if self._recompute is not None:
            self._recompute.cancel()
        self._recompute = asyncio.create_task(self.recompute(self.generation))

    async def recompute(self, generation: int) -> None:
        for name, panel in self.panels.items():
            panel.status = "checking" if name == "validation" else "waiting"
            panel.stale = panel.data is not None
            panel.message = ""
        self.publish()
        root = str(self.root)
        validation = await self._run(self.quick, "validation", generation, root)
        if generation != self.generation:
            return
        if validation is None or not validation.get("ok"):
            reason = ("The knowledge base has problems: fix them and this is checked again."
                      if validation is not None else
                      "The validation failed (see Problems): this is checked again on the next save.")
            for name in PANELS[1:]:
                panel = self.panels[name]
                panel.status, panel.stale = "blocked", panel.data is not None
                panel.message = reason
            self.publish()
            return
        await self._run(self.quick, "scenarios", generation, root)
        for name in SLOW_PANELS:
            await self._run(self.slow, name, generation, root)

    async def _run(self, lane: Lane, name: str, generation: int, root: str) -> dict[str, Any] | None:
        """Compute one panel for `generation` and publish it; None when it could not be."""
        panel = self.panels[name]
        panel.status = "checking"
        self.publish()
        task = {"validation": "validate"}.get(name, name)
        try:
            data = await lane.run(task, root, generation)
        except WorkerCrashed as exc:
            data = {"failed": "crash", "message": str(exc)}
        if generation != self.generation:
            return None
        if "failed" in data:
            panel.status, panel.stale = "failed", panel.data is not None
            panel.message = data.get("message") or (
                "The files changed while this was computed; it is computed again.")
            self.publish()
            return None
        panel.status, panel.generation, panel.stale, panel.message = "done", generation, False, ""
        if name == "charts":
            self.svgs = [chart.pop("svg") for chart in data["charts"]]
        panel.data = data
        self.publish()
        return data

    # --- the playground -----------------------------------------------------------------------

    async def playground(self, task: str, *args: Any) -> dict[str, Any]:
        """Evaluate a case, or save it as a scenario, against the knowledge base as it is now."""
        generation = self.generation
        try:
            result = await self.quick.run(task, str(self.root), generation, *args)
        except WorkerCrashed as exc:
            return {"failed": "crash", "message": str(exc)}
        return {**result, "generation": generation}

    # --- watching and stopping ----------------------------------------------------------------

    async def watch(self) -> None:
        """Recompute now and after every change of a file under the knowledge base. Should the
        watch itself end (the folder deleted and made again, as a checkout may do), it starts
        again and recomputes: a page that silently stopped following the files would show
        stale results as current."""
        try:
            from watchfiles import awatch
        except ImportError as exc:  # a broken installation: say so rather than wait forever
            self.notice = (f"cannot follow saves ({exc}; reinstall guidekb): checked once, "
                           "restart the studio to check again")
            self.changed()
            return
        while not self.stopping.is_set():
            self.changed()
            with contextlib.suppress(OSError, RuntimeError):
                async for _ in awatch(self.root, debounce=WATCH_DEBOUNCE_MS, step=50,
                                      stop_event=self.stopping):
                    self.changed()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), 1.0)

    def end_streams(self) -> None:
        """The server is stopping: end every event stream now (and stop watching)."""
        if not self.stopping.is_set():
            self.stopping.set()
            self.publish()

    def stop(self) -> None:
        """Stop watching, end the event streams, stop the workers (even mid-proof)."""
        self.end_streams()
        if self._recompute is not None:
            self._recompute.cancel()
        self.quick.close()
        self.slow.close()


__all__ = ["PANELS", "Panel", "Studio"]
