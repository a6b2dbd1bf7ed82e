"""Ctrl-C ends `guidekb` promptly, with exit status 130 and no traceback, wherever it lands.

Python's own handler raises KeyboardInterrupt in whatever code runs at that moment, and three
places guidekb runs lose it:

* an object's finalizer (`__del__`, which z3 runs constantly to free its C memory): Python
  prints the exception as "ignored" and carries on;
* ctypes argument conversion (every z3 call): the interrupt becomes `ctypes.ArgumentError`;
* z3's own Ctrl-C handler, which replaces Python's during a solver call, cancels the call and
  answers `unknown` -- or, if the signal lands as the call starts, nothing at all.

So the command line (`install`, called by guidekb.cli.main) records every Ctrl-C before
raising (`pressed()`; guidekb.exits reports any error after one as an interruption), does not
raise inside a finalizer, turns z3's handler off, and keeps a watcher thread that, on Ctrl-C,
interrupts a running solver call (so a long proof stops at once) and delivers the interrupt
again if nothing has acknowledged it (`acknowledge()`) a moment later. Programs embedding
guidekb keep Python's default behaviour: nothing here runs unless `install` is called.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType, ModuleType
from typing import Any

_pressed = threading.Event()
_acknowledged = threading.Event()
_deferred = threading.Event()
_RETRY_SECONDS = 1.0  # an interrupt not acknowledged by then was lost: deliver it again


def install() -> None:
    """Take over Ctrl-C for the `guidekb` command (not when the parent process ignores it)."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _on_interrupt)
    _silence_z3()
    _previous_hook = sys.unraisablehook

    def quiet_after_interrupt(unraisable: Any) -> None:
        """After Ctrl-C, drop Python's "Exception ignored in ..." reports: the interrupt can
        land inside z3's constructors or callbacks, and the half-built objects it leaves fail
        again in their finalizers. The run is ending with 130 anyway; before Ctrl-C, such a
        report is printed as always."""
        if not _pressed.is_set():
            _previous_hook(unraisable)

    sys.unraisablehook = quiet_after_interrupt
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    threading.Thread(target=_watch, args=(read_end,), name="guidekb-interrupts", daemon=True).start()


def pressed() -> bool:
    """Whether Ctrl-C was pressed during this run."""
    return _pressed.is_set()


def acknowledge() -> None:
    """The interrupt reached the code that ends the run: stop delivering it again, and let
    no later Ctrl-C (or a late re-delivery) interrupt the ending itself."""
    _acknowledged.set()


def acknowledged() -> bool:
    return _acknowledged.is_set()


def defer() -> None:
    """From now on Ctrl-C is recorded but neither raised nor delivered again, until `resume`:
    for an orderly shutdown already under way (the studio stopping its worker processes and
    releasing their semaphores), which an interrupt landing half-way would leave half done."""
    _deferred.set()


def resume() -> None:
    """End `defer`, raising the KeyboardInterrupt it held back, if Ctrl-C was pressed."""
    _deferred.clear()
    if _pressed.is_set() and not _acknowledged.is_set():
        raise KeyboardInterrupt


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    _pressed.set()
    if _acknowledged.is_set() or _deferred.is_set():
        return  # the run is already ending (because of an interrupt, or in order): let it end
    if not _in_finalizer(frame):
        raise KeyboardInterrupt
    # raising here would be printed and ignored; the watcher delivers it again shortly


# Where an exception raised is printed as "ignored" and lost: an object's finalizer, and z3's
# error handler, a Python function z3's C code calls back through ctypes (a Ctrl-C landing in
# it was lost that way once commands started fast enough to be proving at the moment).
_RAISE_IS_LOST = frozenset({"__del__", "z3_error_handler"})


def _in_finalizer(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_name in _RAISE_IS_LOST:
            return True
        frame = frame.f_back
    return False


def _watch(read_end: int) -> None:
    """Runs beside the main thread, which may be inside a long C call when Ctrl-C comes."""
    while True:
        received = os.read(read_end, 64)
        if not received:
            return
        if signal.SIGINT not in received:
            continue
        _pressed.set()
        _interrupt_z3()
        if not _acknowledged.wait(_RETRY_SECONDS) and not _deferred.is_set():
            os.kill(os.getpid(), signal.SIGINT)


def _silence_z3() -> None:
    """z3's own Ctrl-C handler swallows the signal; Python's handles it instead (and the
    watcher interrupts the solver). Done when z3 is first imported, by an import hook, so that
    a command that never proves anything (`guidekb run`) does not pay for importing z3."""
    z3 = sys.modules.get("z3")
    if z3 is not None:
        z3.set_param("ctrl_c", False)
    elif not any(isinstance(finder, _Z3Hook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Z3Hook())


class _Z3Hook(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when `z3` is imported, it lets the import happen, then turns z3's
    Ctrl-C handler off before anyone can call a solver."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "z3":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original(module)
            module.set_param("ctrl_c", False)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _interrupt_z3() -> None:
    """Interrupt a running solver call. z3 may be half-imported when Ctrl-C lands (its module
    is in sys.modules before it has run), or its context half-built: then no solver is
    running, and the watcher thread must not die on it with a traceback on the terminal."""
    context = getattr(sys.modules.get("z3.z3"), "_main_ctx", None)  # never created here
    if context is not None:
        with contextlib.suppress(Exception):
            context.interrupt()
