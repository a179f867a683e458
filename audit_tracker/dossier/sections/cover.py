"""The cover: the school, its sites, the frameworks and their versions, the reference date, the
director's signature if any, and what the dossier holds and leaves out."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Spacer, Table, TableStyle

from ...journal.service import head as journal_head
from ...models import ReadinessSignOff
from ...readiness.signoff import latest_signoff
from ..assemble import OutlineNode
from ..document import GRID, WIDTH, Writer, day
from .base import DossierContext, Marks, Part


def gather(context: DossierContext) -> CoverPart:
    """The campaign's latest signature, through the readiness service, and the journal's head
    when the dossier is made (anyone can later check that the journal still holds it)."""
    return CoverPart(context, latest_signoff(context.session, context.campaign),
                     journal_head(context.session))


@dataclass(frozen=True)
class CoverPart(Part):
    context: DossierContext
    signoff: ReadinessSignOff | None
    journal: tuple[int, str] = (0, "")

    def flowables(self, page: Writer) -> list[Flowable]:
        c = self.context
        signoff = self.signoff
        out: list[Flowable] = [Spacer(0, 25 * mm)]
        out.append(page.p(_("Dossier de preuves") + " – " + c.edition.label, page.s.subtitle))
        out.append(page.p(c.campaign.school.name, page.s.title))
        out.append(page.p(c.campaign.name, page.s.subtitle))
        out.append(Spacer(0, 8 * mm))
        rows = []
        sites = ", ".join(site.name for site in c.sites) or "—"
        rows.append((_("Sites couverts") if c.site_filter else _("Sites"), sites))
        for framework in c.frameworks:
            label = f"{framework.name} · v{framework.version}"
            if framework.provisional and "provisoire" not in label.lower():
                label += " " + _("(structure provisoire)")
            rows.append((_("Référentiel"), label))
        rows.append((_("Date de référence"), format_date(c.as_of, "d MMMM yyyy")))
        rows.append((_("Dossier établi le"), format_date(c.built_on, "d MMMM yyyy")))
        rows.append((_("Pièces"), str(len(c.pieces))))
        rows.append((_("Journal"), _("entrée n° %(seq)s, empreinte %(hash)s",
                                     seq=self.journal[0], hash=self.journal[1])))
        if c.sent:
            rows.append((_("Pièces retenues"), _("les preuves validées par l’école.")))
        else:
            rows.append((_("Pièces retenues"), _(
                "les preuves validées et celles à valider (leur statut est indiqué) ; les "
                "brouillons et les preuves refusées ne figurent pas dans ce dossier.")))
        if c.section_filter:
            rows.append((_("Périmètre"), _("une partie des sections du référentiel seulement")))
        rows.append((_("Annexes"), _("jointes") if c.options.with_annexes else _(
            "non jointes : les pièces sont listées avec leur empreinte")))
        if c.options.include_personal_data:
            rows.append((_("Données personnelles"), _(
                "les pièces contenant des données personnelles d’apprenants sont incluses, à la "
                "demande de l’auteur du dossier (listées au manifeste)")))
        elif c.excluded_personal:
            rows.append((_("Données personnelles"), ngettext(
                "%(num)s pièce contenant des données personnelles d’apprenants exclue, "
                "consultable sur place",
                "%(num)s pièces contenant des données personnelles d’apprenants exclues, "
                "consultables sur place", c.excluded_personal)))
        table = Table([[page.p(k, page.s.cell_bold), page.p(v, page.s.small)] for k, v in rows],
                      colWidths=[40 * mm, WIDTH - 40 * mm], hAlign="LEFT")
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID)]))
        out.append(table)
        out.append(Spacer(0, 8 * mm))
        if signoff is not None:
            text = _("État de préparation signé par %(name)s le %(day)s pour la date de référence "
                     "du %(as_of)s.", name=signoff.signed_by.full_name,
                     day=format_date(signoff.signed_at.date(), "dd/MM/yyyy"),
                     as_of=day(signoff.as_of))
            out.append(page.p(_("Validation de la direction"), page.s.h3))
            out.append(page.p(text))
            if signoff.comment:
                out.append(page.p("« " + signoff.comment + " »", page.s.quote))
            if signoff.snapshot is not None:
                out.append(page.p(_("Empreinte SHA-256 de l’état signé : %(hash)s",
                                    hash=signoff.snapshot.sha256), page.s.small,
                                  typography=False))
            if signoff.as_of != c.as_of:
                out.append(page.p(_("Attention : cette signature porte sur une autre date de "
                                    "référence que ce dossier."), page.s.small))
        elif not c.sent:
            out.append(page.p(_("L’état de préparation n’a pas encore été signé par la "
                                "direction."), page.s.small))
        out.append(Spacer(0, 6 * mm))
        out.append(page.p(_("Ce dossier montre ce que l’école peut démontrer à la date de "
                            "référence ; la décision revient à l’auditeur."), page.s.small))
        out.append(PageBreak())
        return out

    def outline(self, marks: Marks) -> list[OutlineNode]:
        return [OutlineNode(_("Page de garde"), 0)]
