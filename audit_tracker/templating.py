"""Jinja filters and globals: Markdown rendered safely, dates in French, permissions."""

from __future__ import annotations

import markdown as markdown_lib
import nh3
from flask import Flask
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
    ngettext,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from .accounts.permissions import Permission, has_permission
from .i18n import french_day, megabytes, to_criterion
from .models import ClaimStatus, ReviewStatus

# What Markdown may produce and a reader may see; everything else (script, style, on*=) goes.
ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "abbr",
    "del",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML, sanitised: raw HTML in the source cannot inject anything."""
    if not text:
        return Markup("")
    html = markdown_lib.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


def human_size(size: int) -> str:
    """A file size as a French reader writes it: « 1,8 ko », « 12 Mo » (decimal units)."""
    for limit, unit in ((10**9, _("Go")), (10**6, _("Mo")), (10**3, _("ko"))):
        if size >= limit:
            return f"{format_decimal(size / limit, format='#,##0.#')}\u00a0{unit}"
    return ngettext("%(num)s octet", "%(num)s octets", size)


def percent(value: float | None) -> str:
    """A fraction as a reader writes it: « 16 % » in French (narrow no-break space before the
    sign), "16%" in English; « — » for no value (a rate whose denominator is 0)."""
    if value is None:
        return "—"
    return format_percent(value).replace("\u00a0%", "\u202f%")


def labelled(label: str, value: object = "") -> str:
    """« Statut : Ouvert » in French, "Status: Open" in English: the colon is the language's."""
    return _("%(label)s : %(value)s", label=label, value=value).rstrip()


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["human_size"] = human_size
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.globals["labelled"] = labelled
    app.jinja_env.globals["megabytes"] = megabytes
    app.jinja_env.globals["to_criterion"] = to_criterion
    app.jinja_env.filters["date_fr"] = lambda d, fmt="d MMMM yyyy": french_day(d, fmt) if d else ""
    app.jinja_env.filters["datetimeformat"] = lambda d, fmt="dd/MM/yyyy HH:mm": (
        format_datetime(d, fmt) if d else ""
    )
    app.jinja_env.filters["number_fr"] = lambda n: format_decimal(n, "#,##0.#") if n is not None \
        else ""
    app.jinja_env.filters["date_short"] = lambda d: format_date(d, "dd/MM/yyyy") if d else ""
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["Permission"] = Permission
    app.jinja_env.globals["ClaimStatus"] = ClaimStatus
    app.jinja_env.globals["ReviewStatus"] = ReviewStatus
    app.jinja_env.globals["can"] = lambda permission: has_permission(
        current_user if current_user.is_authenticated else None, permission
    )
