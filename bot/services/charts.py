"""Charts as PNG pictures for chat (matplotlib, Agg, no display): hazards by county stacked by state, the weekly
trend of found vs closed, drill compliance by county, and acknowledgement over time for one warning.

Every word on a chart is given by the caller (already translated), so this module draws and never words anything.
Chinese must render as Chinese: the Noto Sans SC font that the project installs (the `pylopdf-fonts-zh-cn` package)
is registered with matplotlib and used for every text, and `Chart.fonts` reports what was actually used, so a
test can tell a font fallback (empty boxes) from the real thing. Pictures are 1080 px wide with large type: what a
phone shows full width without zooming.

matplotlib's figure API (not pyplot) keeps no global state, so charts can be drawn in worker threads. It is imported
on the first chart, not with this module: it costs about a second, which every start of the bot (and every restart
of the crash suite) would otherwise pay for charts it may never draw.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

WIDTH_PX, HEIGHT_PX, DPI = 1080, 810, 100
COLOURS = ("#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#7f7f7f", "#9467bd")
# Where else a CJK font may live: set CHART_FONT to a .otf/.ttf/.ttc, or Debian's fonts-noto-cjk.
_FALLBACK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",)
_lock = threading.Lock()


class NoCjkFont(RuntimeError):
    pass


@dataclass(frozen=True)
class Chart:
    png: bytes
    width: int
    height: int
    fonts: frozenset[str]  # the font files the text was drawn with
    title: str  # what it shows, for its caption: a chart forwarded on its own still says which it is
    count_ticks: tuple[str, ...] = ()  # the labels of its axis of counts (hazards, institutions), if it has one


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float, ...]


@cache
def _font_manager() -> ModuleType:
    import matplotlib
    from matplotlib import font_manager

    # Headless: never look for a display, whatever the environment says.
    matplotlib.use("Agg")
    return font_manager


@cache
def cjk_font() -> Path:
    """The CJK font file, registered with matplotlib once."""
    candidates: list[Path] = []
    if os.environ.get("CHART_FONT"):
        candidates.append(Path(os.environ["CHART_FONT"]))
    with contextlib.suppress(ModuleNotFoundError):
        candidates.append(Path(str(resources.files("pylopdf_fonts_zh_cn") / "NotoSansSC-Regular.otf")))
    candidates += [Path(p) for p in _FALLBACK_FONTS]
    for path in candidates:
        if path.is_file():
            with _lock:
                _font_manager().fontManager.addfont(str(path))
            return path
    raise NoCjkFont("no CJK font found: install the project (pip install -e .) or set CHART_FONT")


def _family() -> str:
    return str(_font_manager().FontProperties(fname=str(cjk_font())).get_name())


def _figure(title: str) -> tuple[Figure, Axes]:
    _font_manager()
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=26, pad=16)
    axes.tick_params(labelsize=18)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _counted(axis: Axis) -> None:
    """An axis of things counted ticks whole numbers only: with a few hazards, "0.5 隐患" was a tick."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _render(figure: Figure, counts: Axis | None = None) -> Chart:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    font_manager = _font_manager()
    family = _family()
    for text in figure.findobj(Text):
        text.set_fontfamily(family)
        # Words on a chart are names and headlines people typed: a pair of $ in them is not a formula (mathtext
        # dropped the signs, and one that did not parse stopped the chart).
        text.set_parse_math(False)
    canvas = FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    used = frozenset(
        font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
        for text in figure.findobj(Text)
        if text.get_text()
    )
    width, height = canvas.get_width_height()
    ticks = () if counts is None else tuple(label.get_text() for label in counts.get_ticklabels())
    return Chart(buffer.getvalue(), width, height, used, figure.axes[0].get_title(), ticks)


def _legend(axes: Axes, columns: int = 1) -> None:
    axes.legend(fontsize=17, frameon=False, ncols=columns, loc="upper left", bbox_to_anchor=(0, 1))


def stacked_bars(
    title: str,
    categories: Sequence[str],
    stacks: Sequence[Series],
    value_label: str,
    colours: Sequence[str] = COLOURS,
) -> Chart:
    """Horizontal stacked bars (county names read better across than under a bar), first category on top."""
    figure, axes = _figure(title)
    positions = list(range(len(categories)))[::-1]
    left = [0.0] * len(categories)
    for colour, series in zip(colours, stacks, strict=False):
        axes.barh(positions, series.values, left=left, label=series.label, color=colour, height=0.7)
        left = [a + b for a, b in zip(left, series.values, strict=True)]
    for y, value in zip(positions, left, strict=True):
        axes.text(value, y, f" {value:g}", va="center", fontsize=16)
    axes.set_yticks(positions, list(categories), fontsize=18)
    axes.set_xlabel(value_label, fontsize=18)
    axes.grid(axis="x", alpha=0.3)
    axes.grid(axis="y", visible=False)
    _legend(axes, columns=min(3, len(stacks)))
    axes.set_ylim(-0.6, len(categories) + 1.2)
    _counted(axes.xaxis)
    return _render(figure, axes.xaxis)


def weekly_lines(title: str, weeks: Sequence[date], lines: Sequence[Series], value_label: str) -> Chart:
    """One point per week, labelled by the Monday it starts on; at most a dozen labels, so they stay legible."""
    figure, axes = _figure(title)
    positions = list(range(len(weeks)))
    for colour, series in zip(COLOURS[2:], lines, strict=False):
        axes.plot(positions, series.values, marker="o", linewidth=3, markersize=7, label=series.label, color=colour)
    step = max(1, -(-len(weeks) // 12))
    axes.set_xticks(positions[::step], [f"{w:%m-%d}" for w in weeks[::step]], rotation=45, ha="right")
    axes.set_ylabel(value_label, fontsize=18)
    axes.set_ylim(bottom=0)
    _legend(axes)
    _counted(axes.yaxis)
    return _render(figure, axes.yaxis)


def percentage_bars(title: str, categories: Sequence[str], rates: Sequence[float | None], no_data: str) -> Chart:
    """One bar per category, 0–100 %; a category with nothing to judge shows `no_data` instead of a bar."""
    figure, axes = _figure(title)
    positions = list(range(len(categories)))[::-1]
    values = [0.0 if rate is None else rate * 100 for rate in rates]
    colours = [COLOURS[3] if v >= 90 else COLOURS[1] if v >= 60 else COLOURS[0] for v in values]
    axes.barh(positions, values, color=colours, height=0.7)
    for y, rate, value in zip(positions, rates, values, strict=True):
        axes.text(value, y, f" {no_data}" if rate is None else f" {value:.0f}%", va="center", fontsize=16)
    axes.set_yticks(positions, list(categories), fontsize=18)
    axes.set_xlim(0, 112)
    axes.set_xlabel("%", fontsize=18)
    axes.grid(axis="x", alpha=0.3)
    axes.grid(axis="y", visible=False)
    return _render(figure)


def cumulative_curve(
    title: str,
    start: datetime,
    answers: Sequence[datetime],
    reached: int,
    until: datetime,
    value_label: str,
    time_label: str,
) -> Chart:
    """How many of the `reached` institutions had answered, hour by hour from `start` to `until` (a step curve)."""
    figure, axes = _figure(title)
    hours = [0.0] + [(at - start).total_seconds() / 3600 for at in answers]
    counts = list(range(len(hours)))
    # The last level holds until now: a flat end says "nobody else has answered since".
    hours.append(max(hours[-1], (until - start).total_seconds() / 3600))
    counts.append(counts[-1])
    axes.step(hours, counts, where="post", linewidth=3, color=COLOURS[2])
    axes.axhline(reached, linestyle="--", color=COLOURS[4], linewidth=2)
    axes.text(0, reached, f" {reached}", va="bottom", fontsize=16, color=COLOURS[4])
    axes.set_ylim(0, max(reached, 1) * 1.12)
    axes.set_xlim(left=0)
    axes.set_ylabel(value_label, fontsize=18)
    axes.set_xlabel(time_label, fontsize=18)
    _counted(axes.yaxis)
    return _render(figure, axes.yaxis)
