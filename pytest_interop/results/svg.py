"""Pictures drawn on the server as SVG: the matrix heatmap and the adoption trend plot.

Plain SVG text inlined in the page: no script, no fetch, readable by any browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

# result -> fill colour (the HTML report's palette)
COLOURS = {
    "passed": "#2e8540",
    "failed": "#c62828",
    "error": "#ef6c00",
    "missing": "#8e24aa",
    "not_run": "#9e9e9e",
    "not_applicable": "#cfd8dc",
    None: "#ffffff",
}
CELL = 14  # the smallest square; fewer columns get larger ones
FONT = "font-family='sans-serif' font-size='11'"


def heatmap(rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[str | None]]):
    """Capability rows by product columns, one coloured square a result."""
    cell = max(CELL, min(56, 480 // max(len(columns), 1)))  # column width
    row_h = CELL + 2
    left = 10 + 6.2 * max((len(r) for r in rows), default=10)
    # column labels are turned 45 degrees: they reach up and right by 0.71 of their length
    reach = 0.71 * 6.2 * max((len(c) for c in columns), default=10)
    top = 10 + reach
    width = left + cell * len(columns) + reach + 10
    height = top + row_h * len(rows) + 34  # the legend below
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' class='heatmap' "
        f"width='{width:.0f}' height='{height:.0f}' viewBox='0 0 {width:.0f} {height:.0f}'>",
        "<title>capability by product heatmap</title>",
    ]
    for j, column in enumerate(columns):
        x = left + cell * j + cell / 2
        parts.append(
            f"<text {FONT} transform='translate({x - 3:.1f},{top - 4:.1f}) rotate(-45)'>"
            f"{escape(column)}</text>"
        )
    for i, row in enumerate(rows):
        y = top + row_h * i
        parts.append(
            f"<text {FONT} x='{left - 4:.1f}' y='{y + row_h / 2 + 3:.1f}' text-anchor='end'>"
            f"{escape(row)}</text>"
        )
        for j, result in enumerate(cells[i]):
            colour = COLOURS.get(result, "#000000")
            parts.append(
                f"<rect x='{left + cell * j:.1f}' y='{y:.1f}' width='{cell - 1}' "
                f"height='{row_h - 1}' fill='{colour}' stroke='#ddd' data-result='{result or ''}'>"
                f"<title>{escape(row)} on {escape(columns[j])}: {escape(result or 'not in run')}"
                "</title></rect>"
            )
    y = top + row_h * len(rows) + 12
    x = 10.0
    for result, colour in COLOURS.items():
        if result is None:
            continue
        parts.append(
            f"<rect x='{x:.1f}' y='{y:.1f}' width='12' height='12' fill='{colour}'/>"
            f"<text {FONT} x='{x + 16:.1f}' y='{y + 10:.1f}'>{result.replace('_', ' ')}</text>"
        )
        x += 24 + 6.2 * len(result)
    parts.append("</svg>")
    return "".join(parts)


def trend(points: Sequence[dict], width: int = 560, height: int = 220) -> str:
    """Share of products passing over time: a line through each run's point, 0-100 %."""
    left, right, top, bottom = 44, 16, 14, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' class='trend' width='{width}' "
        f"height='{height}' viewBox='0 0 {width} {height}'>",
        "<title>adoption over time</title>",
    ]
    for share in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - share / 100)
        parts.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e0e0e0'/>"
            f"<text {FONT} x='{left - 6}' y='{y + 4:.1f}' text-anchor='end'>{share}%</text>"
        )
    if not points:
        parts.append(f"<text {FONT} x='{left + 10}' y='{top + plot_h / 2}'>no runs yet</text>")
        parts.append("</svg>")
        return "".join(parts)
    times = [datetime.fromisoformat(p["when"]).timestamp() for p in points]
    first, last = min(times), max(times)
    span = (last - first) or 1.0
    coords = []
    for moment, point in zip(times, points, strict=True):
        share = point["passed"] / point["total"] if point["total"] else 0.0
        x = left + (plot_w * (moment - first) / span if last > first else plot_w / 2)
        y = top + plot_h * (1 - share)
        coords.append((x, y, point))
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
    parts.append(f"<polyline fill='none' stroke='#1565c0' stroke-width='2' points='{line}'/>")
    for x, y, point in coords:
        parts.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3.5' fill='#1565c0'><title>"
            f"{escape(point['when'][:16])}: {point['passed']} of {point['total']} products"
            "</title></circle>"
        )
    for moment, anchor in ((first, "start"), (last, "end")):
        x = left if anchor == "start" else left + plot_w
        label = datetime.fromtimestamp(moment).strftime("%Y-%m-%d")
        parts.append(
            f"<text {FONT} x='{x}' y='{height - 12}' text-anchor='{anchor}'>{label}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
