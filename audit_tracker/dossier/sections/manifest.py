"""The manifest: every pièce with the full SHA-256 of its version and what re-reading its file
from storage found; the pièces holding personal data, or how many were left out."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from ...pdf.text import Para
from ..assemble import OutlineNode
from ..collect import Integrity, Piece
from ..document import Writer, nature
from .base import DossierContext, Marks, Part


def gather(context: DossierContext) -> ManifestPart:
    """The pièces as numbered, checked when their files were fetched."""
    return ManifestPart(context.pieces, context.excluded_personal)


@dataclass(frozen=True)
class ManifestPart(Part):
    pieces: list[Piece]
    excluded_personal: int

    def flowables(self, page: Writer) -> list[Flowable]:
        out: list[Flowable] = [page.heading(_("Manifeste des pièces"), page.s.h1, 0,
                                            "manifeste")]
        out.append(page.p(_("Chaque pièce avec l’empreinte SHA-256 complète de sa version "
                            "déposée. Chaque fichier a été relu depuis le stockage et son "
                            "empreinte recalculée au moment de l’établissement du dossier.")))
        rows = [page.head(_("N°"), _("Titre et fichier"), _("Taille (octets)"), _("SHA-256"),
                          _("Contrôle"))]
        altered = []
        checks = {
            # The product never says « conforme »: what was checked is the hash.
            Integrity.OK: _("empreinte vérifiée"),
            Integrity.ALTERED: _("ALTÉRÉE"),
            Integrity.MISSING: _("INTROUVABLE"),
            Integrity.NO_FILE: "—",
        }
        for piece in self.pieces:
            version = piece.version
            if version is not None:
                name, size = version.filename, format_decimal(version.size, "#,##0")
                digest = version.sha256
            else:
                name, size, digest = nature(piece), "—", "—"
            check = checks[piece.integrity]
            if piece.integrity is Integrity.ALTERED:
                altered.append(piece)
                digest += "\n" + _("relue : %(hash)s", hash=piece.computed_sha256 or "")
            title = (page.t.markup(piece.title) + '<br/><font size="6" color="#495057">'
                     + page.t.markup(name, typography=False) + "</font>")
            rows.append([str(piece.number), page.t.rich(title, page.s.cell), size,
                         page.p(digest, page.s.cell_hash, typography=False),
                         page.shared(check, page.s.cell_bold if piece.integrity in {
                             Integrity.ALTERED, Integrity.MISSING} else page.s.cell)])
        if len(rows) == 1:
            out.append(page.p(_("Aucune pièce dans ce dossier.")))
        else:
            out.append(page.table(rows, [w * mm for w in (8, 46, 14, 80, 22)]))
        if altered:
            out.append(Spacer(0, 4))
            out.append(page.p(ngettext(
                "%(num)s pièce dont le fichier stocké ne correspond plus à l’empreinte "
                "enregistrée : à vérifier avant envoi.",
                "%(num)s pièces dont le fichier stocké ne correspond plus à l’empreinte "
                "enregistrée : à vérifier avant envoi.", len(altered))))
        personal = [p for p in self.pieces if p.evidence.personal_data]
        out.append(Spacer(0, 4))
        if personal:
            out.append(page.p(_("Pièces contenant des données personnelles d’apprenants, "
                                "incluses à la demande de l’auteur du dossier :"), page.s.h3))
            for piece in personal:
                out.append(Para(page.t.markup(_("Pièce %(number)s – %(title)s",
                                                     number=piece.number, title=piece.title)),
                                     page.s.bullet(0), bulletText="•"))
        elif self.excluded_personal:
            out.append(page.p(ngettext(
                "%(num)s pièce contenant des données personnelles d’apprenants n’est pas "
                "incluse dans ce dossier.",
                "%(num)s pièces contenant des données personnelles d’apprenants ne sont pas "
                "incluses dans ce dossier.", self.excluded_personal)))
        return out

    def outline(self, marks: Marks) -> list[OutlineNode]:
        found = marks.node(_("Manifeste des pièces"), "manifeste")
        return [found] if found else []
