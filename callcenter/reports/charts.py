"""Charts as SVG built on the server: lines, bars, stacked bars, and heat-table colours.

The SVG holds only digits (axes); series names go in an HTML legend (``legend``).
Why our own SVG and not matplotlib or a script library: the page and the PDF get the
same markup, nothing runs in the browser, and the browser (or WeasyPrint) shapes the
Persian text itself with the Vazirmatn font the app serves, so labels come out joined
and right to left with no reshaping step. Every value is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from callcenter.web.formatting import digits

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 30
COLOURS = ("#1f6f8b", "#e07a1f", "#99b898", "#c0392b", "#6c5b7b", "#f6cd61", "#2a363b")


def _scale(values: Sequence[Sequence[float | None]], stacked: bool) -> float:
    if stacked:
        tops = [sum(v or 0 for v in column) for column in zip(*values, strict=False)]
    else:
        tops = [v or 0 for series in values for v in series]
    top = max(tops, default=0)
    return float(top) if top > 0 else 1.0


def _frame(labels: Sequence[str], top: float, language: str) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
             f'y2="{TOP + plot_h}" stroke="#999"/>']
    for step in range(5):
        value = top * step / 4
        y = TOP + plot_h - plot_h * step / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     f'stroke="#eee"/><text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" '
                     f'class="tick">{escape(digits(_short(value), language))}</text>')
    every = max(1, -(-len(labels) // 8))  # at most 8 labels under the axis: no overlap
    slot = plot_w / max(len(labels), 1)
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + slot * (i + 0.5)
        parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                     f'class="tick">{escape(digits(label, language))}</text>')
    return parts


def _short(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def legend(names: Sequence[str]) -> list[tuple[str, str]]:
    """``(name, colour)`` per series, shown as HTML beside the chart: the page and the PDF
    lay out Persian text right to left there (WeasyPrint's SVG text does no bidi)."""
    return [(name, COLOURS[i % len(COLOURS)]) for i, name in enumerate(names)]


def _lines(values: list[list[float | None]], slot: float, top: float) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = []
    for s, vals in enumerate(values):
        colour = COLOURS[s % len(COLOURS)]
        # An undefined value (a ratio of an empty bucket) breaks the line: never a 0.
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(vals):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * v / top))
        for run in (r for r in runs if r):
            if len(run) == 1:
                parts.append(f'<circle class="mark" cx="{run[0][0]:.1f}" '
                             f'cy="{run[0][1]:.1f}" r="2.5" fill="{colour}"/>')
            else:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline class="mark" fill="none" stroke-width="2" '
                             f'stroke="{colour}" points="{points}"/>')
    return parts


def _bars(values: list[list[float | None]], slot: float, top: float,
          stacked: bool) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    width = slot * 0.7 / (1 if stacked else max(len(values), 1))
    parts = []
    for i in range(len(values[0]) if values else 0):
        base = 0.0
        for s, vals in enumerate(values):
            v = float(vals[i] or 0)
            if v <= 0:
                continue
            h = plot_h * v / top
            x = LEFT + slot * i + slot * 0.15 + (0 if stacked else s * width)
            y = TOP + plot_h - h - (plot_h * base / top if stacked else 0)
            parts.append(f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                         f'height="{h:.1f}" fill="{COLOURS[s % len(COLOURS)]}"/>')
            base += v if stacked else 0
    return parts


def chart_svg(*, kind: str, title: str, labels: Sequence[str],
              series: Sequence[tuple[str, Sequence[float | None]]], language: str) -> str:
    """An SVG chart; ``kind`` is ``line``, ``bars`` or ``stacked``. ``data-marks`` counts
    what was drawn (lines, points, bars), so a test can tell an empty chart."""
    values = [list(vals) for _, vals in series]
    top = _scale(values, stacked=kind == "stacked")
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    marks = (_lines(values, slot, top) if kind == "line"
             else _bars(values, slot, top, stacked=kind == "stacked"))
    body = _frame(labels, top, language) + marks
    direction = "rtl" if language == "fa" else "ltr"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-marks="{len(marks)}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
            f'direction="{direction}">' + "".join(body) + "</svg>")


def heat_colour(value: float, top: float) -> str:
    """A background from white (0) to deep orange (``top``) for a heat-table cell."""
    share = 0.0 if top <= 0 else max(0.0, min(1.0, value / top))
    red, green, blue = 255, int(255 - 150 * share), int(255 - 220 * share)
    return f"#{red:02x}{green:02x}{blue:02x}"
