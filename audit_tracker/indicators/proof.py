"""The key indicators filed as a proof of the result criteria.

The table the school shows the auditor (entries, QPV, non-diplômés, companies, positive exits
against the network's targets) *is* the evidence of the criteria about its public and its
results. One click writes it as a dated PDF into the library, linked to those criteria, and sends
it for validation like any other proof: from then on the readiness rules count it, the dossier
carries it, and its SHA-256 says which figures were shown.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from flask_babel import format_date
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..evidence import service as evidence
from ..models import Campaign, Criterion, Evidence, Framework, User
from ..pdf.fonts import BOLD, REGULAR, drawable, register_fonts
from ..storage import Storage
from .display import format_gap, format_target, format_value
from .service import IndicatorTable, indicator_table

# The criteria the indicators demonstrate, by framework code (missing codes are skipped, so an
# imported official grid with other codes simply links fewer).
RESULT_CRITERIA = {
    "e2c-label": ("B1", "B2", "B5", "D5", "G2", "G3", "H3"),
    "qualiopi-v9": ("2",),  # indicateurs de résultats
}


def result_criteria(session: Session, campaign: Campaign) -> list[Criterion]:
    wanted = [(f.id, code) for f in campaign.frameworks for code in RESULT_CRITERIA.get(f.code, ())]
    if not wanted:
        return []
    criteria = session.scalars(
        select(Criterion).join(Framework)
        .where(Criterion.framework_id.in_({fid for fid, _code in wanted}))
        .order_by(Framework.code, Criterion.position))
    return [c for c in criteria if (c.framework_id, c.code) in wanted]


def table_pdf(table: IndicatorTable, today: date) -> bytes:
    """The indicator table as a one-page landscape PDF, in the dossier's embedded font."""
    fonts = register_fonts()
    text = ParagraphStyle("text", fontName=REGULAR, fontSize=9, leading=12)
    title = ParagraphStyle("title", parent=text, fontName=BOLD, fontSize=14, leading=18)
    head = ParagraphStyle("head", parent=text, fontName=BOLD, fontSize=8, leading=10)
    cell = ParagraphStyle("cell", parent=text, fontSize=8, leading=10)

    def p(value: object, style: ParagraphStyle = cell) -> Paragraph:
        plain = drawable(str(value), fonts)
        return Paragraph(plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
                         style)

    indicators = table.indicators
    rows = [[p(_("Site"), head), p(_("Stagiaires entrés"), head),
             p(_("Entreprises ayant reçu des stagiaires"), head)]
            + [p(i.label, head) for i in indicators]]
    for row in [*table.rows, table.total]:
        cells = [p(row.label), p(row.counts.entries), p(row.counts.host_companies)]
        for indicator in indicators:
            measure = row[indicator.code]
            value = format_value(indicator, measure.value)
            if measure.target is not None:
                value = _("%(value)s (cible %(target)s, écart %(gap)s)", value=value,
                          target=format_target(measure.target), gap=format_gap(measure))
            cells.append(p(value))
        rows.append(cells)
    grid = Table(rows, repeatRows=1, colWidths=[48 * mm, 22 * mm, 28 * mm]
                 + [(270 * mm - 98 * mm) / len(indicators)] * len(indicators))
    grid.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f8f9fa")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    period = ""
    if table.periods:
        period = _("de %(start)s à %(end)s", start=format_date(table.periods[0], "MMMM yyyy"),
                   end=format_date(table.periods[-1], "MMMM yyyy"))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm,
                            rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm,
                            title=_("Indicateurs clés"), author=table.school.name)
    doc.build([
        p(_("Indicateurs clés · %(school)s", school=table.school.name), title),
        p(_("Situation au %(day)s, %(period)s. Taux du total pondérés : somme des effectifs "
            "rapportée à la somme des effectifs, jamais une moyenne des pourcentages des sites.",
            day=format_date(today, "dd/MM/yyyy"), period=period), text),
        Spacer(0, 4 * mm),
        grid,
    ])
    return out.getvalue()


def file_as_proof(session: Session, storage: Storage, tmp_dir: Path, campaign: Campaign,
                  author: User, today: date) -> Evidence:
    """Write today's indicator table into the library, linked to the result criteria and sent
    for validation (the file is stored and committed; its links and review only flushed). Refused
    (``IndicatorError``-free: an ``EvidenceError``) like any upload."""
    table = indicator_table(campaign.school)
    if table.is_empty:
        raise evidence.EvidenceError(_("Aucun indicateur saisi : il n’y a rien à verser."))
    name = f"indicateurs-cles-{today.isoformat()}.pdf"
    upload = evidence.receive_file(io.BytesIO(table_pdf(table, today)), name, tmp_dir,
                                   10 * 1024 * 1024)
    last = table.periods[-1]
    next_month = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    proof = evidence.create_evidence(
        session, storage, school=campaign.school, author=author, upload=upload,
        fields=evidence.EvidenceFields(
            title=_("Indicateurs clés au %(day)s", day=format_date(today, "dd/MM/yyyy")),
            description=_("Tableau des indicateurs clés par site et total pondéré, comparés "
                          "aux cibles du réseau ; versé depuis la page des indicateurs."),
            covers_from=table.periods[0], covers_to=date.fromordinal(next_month.toordinal() - 1),
        ))
    for criterion in result_criteria(session, campaign):
        evidence.link_criterion(session, proof, criterion,
                                _("Indicateurs de résultats de l’école"), author)
    evidence.submit_for_review(session, proof, author)
    return proof
