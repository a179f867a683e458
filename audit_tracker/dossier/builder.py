"""Build the evidence dossier: one navigable PDF (and optionally a ZIP) for the auditor.

The order of work is what makes the page numbers right in one go:

1. choose the criteria and the pièces, number the pièces (first appearance, référentiel order);
2. fetch each file from the storage backend to a work folder, re-hashing it on the way;
3. plan the annexes: one separator page per pièce plus each PDF's page count (page tree only);
4. let each section of the edition (``sections.EDITIONS``) gather its data through its
   area's service, then lay their flowables out as the main part (``multiBuild`` until its
   TOC and its own page count are stable), the annex page of each pièce being main pages + its
   offset;
5. draw the separator pages, numbered where they will land;
6. assemble the final file by streaming pages (``assemble.StreamingPdfWriter``) and write the
   outline, each section giving its bookmarks; then the ZIP.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from reportlab.platypus import Flowable
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import local_today
from ..models import Campaign, Criterion, Section, Site
from ..pdf import fonts as font_mod
from ..pdf.collector import collector_paused
from ..pdf.text import Styles, Text
from ..readiness.rules import default_reference_date, readiness_of
from ..storage import EVIDENCE, storage_for, upload_tmp_dir
from ..storage.digest import digest_file
from .annexes import build_separators
from .assemble import AssemblyError, OutlineNode, StreamingPdfWriter
from .bundle import build_zip
from .collect import (
    INCLUDED_STATUSES,
    SENT_STATUSES,
    AnnexKind,
    Piece,
    add_supporting,
    classify,
    excluded_personal_count,
    fetch,
    number_pieces,
    plan_annexes,
    select_links,
    supporting_evidence,
)
from .document import Layout, PageCount, Writer, build_main, day
from .options import DossierError, DossierOptions, DossierOptionsError, Edition
from .sections import EDITIONS, DossierContext, Marks, Part

__all__ = ["DossierError", "DossierOptions", "DossierOptionsError", "DossierResult",
           "build_dossier"]

Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class DossierResult:
    pdf_path: Path
    zip_path: Path | None
    page_count: int
    piece_count: int
    sha256: str
    size: int


@dataclass
class _Scope:
    frameworks: list
    section_ids: set[int]
    sites: list[Site]


def check_options(session: Session, campaign: Campaign, options: DossierOptions) -> _Scope:
    """The options against this campaign: unknown frameworks, sections or sites are refused."""
    problems = []
    frameworks = {f.id: f for f in campaign.frameworks}
    for framework_id in options.framework_ids:
        if framework_id not in frameworks:
            problems.append(_("Le référentiel %(id)s n’est pas suivi par cette campagne.",
                              id=framework_id))
    chosen = [f for f in campaign.frameworks
              if not options.framework_ids or f.id in options.framework_ids]
    section_ids = set(options.section_ids)
    if section_ids:
        known = set(session.scalars(select(Section.id).where(
            Section.id.in_(section_ids),
            Section.framework_id.in_([f.id for f in chosen] or [0]))))
        for section_id in options.section_ids:
            if section_id not in known:
                problems.append(_("La section %(id)s n’appartient à aucun référentiel retenu.",
                                  id=section_id))
    sites = {s.id: s for s in campaign.school.sites}
    for site_id in options.site_ids:
        if site_id not in sites:
            problems.append(_("Le site %(id)s n’est pas un site de l’école.", id=site_id))
    if problems:
        raise DossierOptionsError(problems)
    return _Scope(chosen, section_ids, [sites[i] for i in options.site_ids])


def build_dossier(session: Session, campaign: Campaign, options: DossierOptions, pdf_path: Path,
                  *, zip_path: Path | None = None, progress: Progress | None = None,
                  today: date | None = None,
                  sections: Sequence[Callable[[DossierContext], Part]] | None = None
                  ) -> DossierResult:
    """Build the dossier PDF at ``pdf_path`` (and the ZIP at ``zip_path``) from ``sections``
    (by default the sections of the options' edition); ``progress`` is told the percentage done
    and the step, in French. The files appear whole or not at all."""
    sections = sections or EDITIONS[options.edition]
    sent = options.edition is Edition.SCHOOL
    report = progress or (lambda _percent, _label: None)
    app = current_app._get_current_object()
    report(0, _("Préparation"))
    font_set = font_mod.register_fonts(app.config.get("DOSSIER_FONT_DIR"))
    scope = check_options(session, campaign, options)
    today = today or local_today()
    as_of = options.as_of or default_reference_date(campaign, today)
    pdf_path = Path(pdf_path)

    report(3, _("Calcul de l’état de préparation"))
    site_id = options.site_ids[0] if len(options.site_ids) == 1 else None
    readiness = readiness_of(session, campaign, as_of, today=today, site_id=site_id)
    framework_ids = {f.id for f in scope.frameworks}
    judged = [c for c in readiness.criteria if c.framework_id in framework_ids
              and (not scope.section_ids or c.section_id in scope.section_ids)]
    readiness = dataclasses.replace(readiness, criteria=tuple(judged))
    by_id = {c.id: c for c in session.scalars(
        select(Criterion).where(Criterion.id.in_([j.criterion_id for j in judged] or [0])))}
    criteria = [by_id[j.criterion_id] for j in judged]
    criterion_ids = [c.id for c in criteria]

    # The school sends validated proofs only; the internal review shows those awaiting too.
    statuses = SENT_STATUSES if sent else INCLUDED_STATUSES
    links = select_links(session, campaign, criterion_ids, options.site_ids,
                         options.include_personal_data, statuses)
    pieces, per_criterion = number_pieces(criteria, links)
    add_supporting(pieces, supporting_evidence(session, campaign, as_of, today), statuses,
                   options.site_ids, options.include_personal_data)
    excluded = 0 if options.include_personal_data else excluded_personal_count(
        session, campaign, criterion_ids, options.site_ids, statuses)

    storage = storage_for(app, EVIDENCE)
    with tempfile.TemporaryDirectory(prefix="dossier-", dir=upload_tmp_dir(app)) as raw_work:
        work = Path(raw_work)
        files = work / "files"
        files.mkdir()
        for index, piece in enumerate(pieces):
            if index % 10 == 0:
                report(5 + 30 * index // max(1, len(pieces)),
                       _("Lecture des pièces (%(done)s / %(total)s)", done=index,
                         total=len(pieces)))
            fetch(piece, storage, files)
            classify(piece)
        annex_pages = plan_annexes(pieces) if options.with_annexes else 0

        context = DossierContext(
            session=session, campaign=campaign, options=options, frameworks=scope.frameworks,
            sites=scope.sites or list(campaign.school.sites), site_filter=bool(scope.sites),
            section_filter=bool(scope.section_ids), as_of=as_of, built_on=today,
            readiness=readiness, criteria=criteria, pieces=pieces, per_criterion=per_criterion,
            excluded_personal=excluded, edition=options.edition,
        )
        parts = [gather(context) for gather in sections]
        text = Text(font_set, Styles())
        layout = Layout(
            school=campaign.school.name, campaign=campaign.name,
            footer_note=(_("Dossier de l’école – date de référence : %(day)s", day=day(as_of))
                         if sent else _("Dossier de preuves – revue interne – date de "
                                        "référence : %(day)s", day=day(as_of))),
            annex_pages=annex_pages, with_annexes=options.with_annexes,
        )
        # A first guess for the page count saves a pass when it is right.
        layout.main_pages = 3 + len(criteria) // 3
        title = _("Dossier de preuves – %(school)s – %(campaign)s",
                  school=campaign.school.name, campaign=campaign.name)
        report(38, _("Mise en page du dossier"))
        main_path = work / "main.pdf"
        separators = work / "annexes.pdf"
        with_annexes = options.with_annexes and bool(pieces)
        with collector_paused():
            writer = Writer(text, layout)
            story: list[Flowable] = [PageCount(layout)]
            for part in parts:
                story += part.flowables(writer)
            main_pages = build_main(main_path, story, layout, title=title,
                                    author=campaign.school.name)
            del story, writer
            if with_annexes:
                report(65, _("Pages de séparation des annexes"))
                build_separators(separators, pieces, text, layout, as_of=as_of)

        report(75, _("Assemblage du PDF"))
        marks = Marks(layout, annexes=with_annexes)
        outline = [node for part in parts for node in part.outline(marks)]
        if with_annexes:
            outline.append(_annex_root(marks, pieces))
        partial = pdf_path.with_name(pdf_path.name + ".part")
        try:
            expected = main_pages + (annex_pages if with_annexes else 0)
            page_count = _assemble(partial, main_path, separators if with_annexes else None,
                                   pieces, title, campaign.school.name, outline, report,
                                   expected)
            if page_count != expected:
                raise DossierError(_("Assemblage incohérent : %(got)s pages au lieu de "
                                     "%(expected)s.", got=page_count, expected=expected))
            os.replace(partial, pdf_path)
        finally:
            partial.unlink(missing_ok=True)
        digest = digest_file(pdf_path)

        if zip_path is not None:
            report(92, _("Archive ZIP"))
            zip_path = Path(zip_path)
            zip_partial = zip_path.with_name(zip_path.name + ".part")
            try:
                build_zip(zip_partial, pdf_path, pieces, pdf_name=pdf_path.name)
                os.replace(zip_partial, zip_path)
            finally:
                zip_partial.unlink(missing_ok=True)
    report(100, _("Dossier prêt"))
    return DossierResult(pdf_path, zip_path, page_count, len(pieces), digest.sha256, digest.size)


def _assemble(path: Path, main_path: Path, separators: Path | None, pieces: list[Piece],
              title: str, author: str, outline: list[OutlineNode], report: Progress,
              total: int) -> int:
    writer = StreamingPdfWriter(path)
    try:
        for piece in pieces:
            writer.reserve_link_target(f"piece/{piece.number}")
        writer.append_pdf(main_path)
        if separators is not None:
            targets = {i: writer.link_targets[f"piece/{p.number}"] for i, p in enumerate(pieces)}
            with writer.open_source(separators, targets) as source:
                for index, piece in enumerate(pieces):
                    if index % 20 == 0:
                        report(75 + 15 * index // max(1, len(pieces)),
                               _("Assemblage des annexes (%(done)s / %(total)s)", done=index,
                                 total=len(pieces)))
                    source.copy([index])
                    if piece.annex is AnnexKind.PDF:
                        before = len(writer.page_ids)
                        try:
                            writer.append_pdf(piece.local_path,
                                              stamp=_stamper(piece, before + 1, total))
                        except (AssemblyError, Exception) as error:
                            raise DossierError(_(
                                "La pièce %(number)s (« %(title)s ») n’a pas pu être jointe : "
                                "%(error)s", number=piece.number, title=piece.title,
                                error=error)) from error
                        if len(writer.page_ids) - before != piece.pdf_pages:
                            raise DossierError(_("La pièce %(number)s n’a pas le nombre de "
                                                 "pages prévu.", number=piece.number))
        return writer.close(title=title, author=author, outline=outline)
    except BaseException:
        writer.abort()
        raise


def _stamper(piece: Piece, first: int, total: int) -> Callable[[int], str]:
    """The margin stamp of the pièce's merged pages: which pièce, which of its pages, and where
    the page stands in the dossier (``first`` is its first page's 1-based number)."""
    label = _("Pièce %(number)s – p. %%(page)s/%(pages)s · dossier p. %%(at)s / %(total)s",
              number=piece.number, pages=piece.pdf_pages, total=total)
    return lambda index: label % {"page": index + 1, "at": first + index}


def _annex_root(marks: Marks, pieces: list[Piece]) -> OutlineNode:
    """The annexes' bookmark, one child per pièce pointing at its separator page."""
    root = OutlineNode(_("Annexes"), marks.annex_index(pieces[0]))
    for piece in pieces:
        root.add(_("Pièce %(number)s – %(title)s", number=piece.number, title=piece.title),
                 marks.annex_index(piece))
    return root

