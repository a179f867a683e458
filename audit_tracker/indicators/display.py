"""The indicators as a reader sees them: « 16 % », « ≥ 40 % », « −24 pts ». The service keeps
full-precision numbers; they are rounded here, when shown (pages, chart, PDF)."""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import gettext as _

from ..models import IndicatorTarget
from ..templating import percent
from .service import INDICATORS, Indicator, Measure


def _signed(number: float, pattern: str) -> str:
    sign = "+" if number > 0 else "−" if number < 0 else "±"
    return f"{sign}{format_decimal(abs(number), format=pattern)}"


def format_value(indicator: Indicator, value: float | None) -> str:
    """« 16 % » for a rate, « 5,3 » for a monthly average, « — » without a value."""
    if value is None:
        return "—"
    if indicator.is_rate:
        return percent(value)
    return format_decimal(value, format="#,##0.#")


def format_target(target: IndicatorTarget | None) -> str:
    """« ≥ 40 % », « ≥ 10 »; empty without a target."""
    if target is None:
        return ""
    indicator = INDICATORS.get(target.indicator)
    shown = format_value(indicator, target.value) if indicator else str(target.value)
    return f"{target.comparison.sign}\u00a0{shown}"


def format_gap(measure: Measure) -> str:
    """« −24 pts » for a rate, « −4,7 » for a monthly count; empty without a target."""
    if measure.gap is None:
        return ""
    if measure.indicator.is_rate:
        points = round(measure.gap_points)
        return _("%(gap)s pts", gap=_signed(points, "#,##0"))
    return _signed(measure.gap, "#,##0.#")
