"""PNG charts for ``grabdesk lab --report``: one curve per policy over the hours of the trace.

Drawn with pyqtgraph (already the console's chart library) on an offscreen
Qt platform when there is no display, and saved with its image exporter.
"""
from __future__ import annotations

import os
from pathlib import Path

#: curve colours, one per policy in order
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
WIDTH_PX = 1000
HEIGHT_PX = 420

_app = None


def _qt():
    global _app
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([])
    return _app


def per_hour_chart(path: Path, title: str, unit: str, curves: dict[str, list[float]]) -> Path:
    """One line per policy (hour of the trace on x); writes ``path`` and returns it."""
    _qt()
    import pyqtgraph as pg
    import pyqtgraph.exporters

    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    plot = pg.PlotWidget(title=title)
    plot.resize(WIDTH_PX, HEIGHT_PX)
    plot.addLegend(offset=(10, 10))
    plot.setLabel("bottom", "hour of the trace")
    plot.setLabel("left", unit)
    plot.showGrid(x=True, y=True, alpha=0.3)
    for i, (name, values) in enumerate(curves.items()):
        plot.plot(list(range(len(values))), values, name=name,
                  pen=pg.mkPen(COLOURS[i % len(COLOURS)], width=2))
    exporter = pyqtgraph.exporters.ImageExporter(plot.plotItem)
    exporter.parameters()["width"] = WIDTH_PX
    exporter.export(str(path))
    plot.close()
    plot.deleteLater()
    return path
