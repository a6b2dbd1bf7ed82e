"""The studio's routes (Starlette): one page, its own script and style, the state as JSON, a
server-sent-event stream, the flowcharts as SVG images, and the playground's two requests.

Safety of a local server that can write a file: it answers only requests addressed to the host
it is bound to (a web page elsewhere cannot reach it through DNS rebinding), the two POSTs
need `Content-Type: application/json` and, when the browser sends one, an Origin of this
server (so no other site's form can post to it), and the page's Content-Security-Policy lets it
run only its own script. Knowledge-base text reaches the page as JSON and is put in with
`textContent`; a chart is an SVG shown as an image, which runs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from guidekb.engine.format.locate import inside_installed_package
from guidekb.studio.events import state_events
from guidekb.studio.playground import BadRequest, case_from, scenario_request
from guidekb.studio.state import Studio

PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'"  # an SVG shown on its own runs nothing
STATIC = {"studio.js": "text/javascript; charset=utf-8", "studio.css": "text/css; charset=utf-8"}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
INSTALLED_READ_ONLY = (
    "this knowledge base is installed with guidekb (inside site-packages), so the studio does "
    "not write into it: start your own with 'guidekb init DIR' and open 'guidekb studio --kb DIR'")


def static_text(name: str) -> bytes:
    return resources.files("guidekb.studio").joinpath("static", name).read_bytes()


def create_app(studio: Studio, allowed_hosts: list[str] | None = None) -> Starlette:
    """The studio's application for `studio`; `allowed_hosts`: the Host headers answered
    (default: the loopback names)."""
    hosts = list(allowed_hosts or LOOPBACK_HOSTS)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watching = asyncio.create_task(studio.watch())
        try:
            yield
        finally:
            studio.stop()
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watching

    async def page(request: Request) -> Response:
        return Response(static_text("studio.html"), media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": PAGE_POLICY, **_NO_STORE})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return _error(404, "not found")
        return Response(static_text(name), media_type=STATIC[name], headers=dict(_NO_STORE))

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    async def state(request: Request) -> Response:
        return JSONResponse(studio.as_json(), headers=dict(_NO_STORE))

    async def events(request: Request) -> Response:
        return StreamingResponse(state_events(studio), media_type="text/event-stream",
                                 headers={**_NO_STORE, "X-Accel-Buffering": "no"})

    async def chart(request: Request) -> Response:
        generation, number = request.path_params["generation"], request.path_params["number"]
        if generation != studio.panels["charts"].generation or not 0 <= number < len(studio.svgs):
            return _error(404, "no such chart (the knowledge base changed since): reload the state")
        return Response(studio.svgs[number], media_type="image/svg+xml",
                        headers={"Content-Security-Policy": CHART_POLICY,
                                 "Cache-Control": "private, max-age=3600"})

    async def evaluate(request: Request) -> Response:
        try:
            case = case_from(await _json_body(request, hosts))
        except BadRequest as exc:
            return _error(getattr(exc, "status", 400), str(exc))
        return _answer(await studio.playground("evaluate", case))

    async def save(request: Request) -> Response:
        if inside_installed_package(studio.root):
            return _error(409, INSTALLED_READ_ONLY)
        try:
            case, name, description = scenario_request(await _json_body(request, hosts),
                                                       studio.root / "scenarios")
        except BadRequest as exc:
            return _error(getattr(exc, "status", 400), str(exc))
        result = await studio.playground("save_scenario", case, name, description)
        return _answer(result, created=True)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/static/{name}", static),
            Route("/favicon.ico", no_icon),
            Route("/api/state", state),
            Route("/events", events),
            Route("/charts/{generation:int}/{number:int}.svg", chart),
            Route("/api/evaluate", evaluate, methods=["POST"]),
            Route("/api/scenarios", save, methods=["POST"]),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
        lifespan=lifespan,
    )


_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class _Refused(BadRequest):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _json_body(request: Request, hosts: list[str]) -> Any:
    """The request's JSON, from this server's own page only."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).hostname not in {h.strip("[]") for h in hosts}:
        raise _Refused(403, "requests are accepted from the studio's own page only")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise _Refused(415, "send the request as application/json")
    try:
        return await request.json()
    except ValueError as exc:
        raise BadRequest(f"the request body is not valid JSON ({exc})") from None


def _answer(result: dict[str, Any], created: bool = False) -> Response:
    """A worker's result as a response: 4xx with the message when it is an error."""
    if result.get("failed") == "problems":
        return JSONResponse({"error": "the knowledge base has problems (see Problems): fix them first",
                             "problems": result.get("problems", [])}, status_code=409)
    if "failed" in result:
        return _error(500, str(result.get("message", "the worker failed")))
    if "error" in result:
        error = result["error"]
        return JSONResponse({"error": error["message"], "problems": error.get("problems", [])},
                            status_code=int(result.get("status", 422)))
    return JSONResponse(result, status_code=201 if created else 200)


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


__all__ = ["LOOPBACK_HOSTS", "create_app"]
