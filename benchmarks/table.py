"""The one table `make bench` prints, and benchmarks/results.json.

Each row is a figure: guidekb's median, its baseline's median measured in the same run, the
ratio, and the target when the issue sets one. A row that could not be measured says why in
its note instead of showing a number.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Row:
    figure: str
    unit: str
    guidekb: float | None
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""  # e.g. "<= 1.3x", ">= 1.8x", "< 3 s"
    target_met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.guidekb is None or not self.baseline:
            return None
        return self.guidekb / self.baseline

    def judge(self, limit: float, higher_is_better: bool = False, on_ratio: bool = True) -> Row:
        """Set target_met from the ratio (or from guidekb's own value when on_ratio is False)."""
        value = self.ratio if on_ratio else self.guidekb
        if value is not None:
            self.target_met = value >= limit if higher_is_better else value <= limit
        return self


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def render(rows: list[Row]) -> str:
    header = ("figure", "unit", "guidekb", "baseline", "ratio", "target", "met")
    lines = [[r.figure, r.unit, _number(r.guidekb), _number(r.baseline),
              f"{r.ratio:.2f}x" if r.ratio is not None else "-", r.target or "-",
              {True: "yes", False: "MISSED", None: "-"}[r.target_met]] for r in rows]
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
           "  ".join("-" * w for w in widths)]
    for line in lines:
        out.append("  ".join(c.rjust(w) if 2 <= i <= 4 else c.ljust(w)
                             for i, (c, w) in enumerate(zip(line, widths, strict=True))))
    notes = [(i + 1, r) for i, r in enumerate(rows) if r.note or r.baseline_name]
    out.append("")
    for number, row in notes:
        against = f"baseline: {row.baseline_name}. " if row.baseline_name else ""
        out.append(f"[{number}] {row.figure}: {against}{row.note}".rstrip())
    return "\n".join(out)


def machine() -> dict[str, object]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "python": sys.version.split()[0],
            "platform": platform.platform(), "cpus": os.cpu_count(), "load_average": list(load)}


def write_results(rows: list[Row], path: Path, started: dict[str, object], seconds: float) -> None:
    data = {"machine_at_start": started, "machine_at_end": machine(), "seconds": round(seconds, 1),
            "rows": [{**asdict(r), "ratio": r.ratio} for r in rows]}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
