"""Graphviz's own size of many drawings at once, cached.

Fitting a chart to a page means laying out many trial drawings (one per question a part
might take). Each `dot` process spends about 50 ms starting up and 5-10 ms laying out a
part, so the trials are handed to one `dot` process together (dot reads any number of
graphs from its input and writes one SVG document per graph, in order): the same sizes for
a seventh of the time. Sizes are cached per DOT source, since the handout and the slides
measure the same drawings again when they place them.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import graphviz

from guidekb.visualize.dot import dot_available
from guidekb.visualize.errors import GraphvizMissing

_SIZE = re.compile(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"')
_SCALE = re.compile(rb'<g id="graph0" class="graph" transform="scale\(([\d.]+) ([\d.]+)\)')
_FONT = re.compile(rb'font-size="([\d.]+)"')
_KEPT = 4096  # sizes remembered (a run of every preset measures about 1500 drawings)


@dataclass(frozen=True)
class Drawn:
    """What graphviz drew: the page size in points, the scale it applied (1 unless `size`
    or `ratio` shrank it) and the font sizes it used, smallest first."""

    width: float
    height: float
    scale: float
    fonts: tuple[float, ...]

    @property
    def smallest_font(self) -> float:
        """The smallest text as printed: its font size times the scale of the drawing."""
        return min(self.fonts, default=0.0) * self.scale


def svgs(sources: Sequence[str]) -> list[bytes]:
    """The SVG of each DOT source, from one `dot` process."""
    if not sources:
        return []
    if not dot_available():
        raise GraphvizMissing("svg")
    try:
        out: bytes = graphviz.pipe("dot", "svg", "\n".join(sources).encode())
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing("svg") from exc
    starts = [m.start() for m in re.finditer(rb"<\?xml ", out)]
    documents = [out[a:b] for a, b in zip(starts, [*starts[1:], len(out)], strict=True)]
    if len(documents) != len(sources):
        raise RuntimeError(f"dot drew {len(documents)} of {len(sources)} graphs")
    return documents


def drawn(svg: bytes) -> Drawn:
    """Size, scale and fonts of one SVG written by graphviz."""
    size = _SIZE.search(svg)
    if size is None:
        raise RuntimeError("not an SVG written by graphviz")
    scale = _SCALE.search(svg)
    factor = min(float(scale.group(1)), float(scale.group(2))) if scale else 1.0
    fonts = tuple(sorted(float(f) for f in _FONT.findall(svg)))
    return Drawn(float(size.group(1)), float(size.group(2)), factor, fonts)


_cache: OrderedDict[str, Drawn] = OrderedDict()


def measure_all(sources: Sequence[str]) -> list[Drawn]:
    """What graphviz draws for each DOT source: the uncached ones laid out by one `dot`."""
    missing = list(dict.fromkeys(s for s in sources if s not in _cache))
    for source, svg in zip(missing, svgs(missing), strict=True):
        _cache[source] = drawn(svg)
    found = [_cache[s] for s in sources]
    while len(_cache) > _KEPT:
        _cache.popitem(last=False)
    return found


def measure(source: str) -> Drawn:
    return measure_all([source])[0]
