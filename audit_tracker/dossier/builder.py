"""Build the evidence dossier: one navigable PDF (and optionally a ZIP) for the auditor.

The order of work is what makes the page numbers right in one go:

1. choose the criteria and the pièces, number the pièces (first appearance, référentiel order);
2. fetch each file from the storage backend to a work folder, re-hashing it on the way;
3. plan the annexes: one separator page per pièce plus each PDF's page count (page tree only);
4. lay out the main part (``multiBuild`` until its TOC and its own page count are stable), the
   annex page of each pièce being main pages + its offset;
5. draw the separator pages, numbered where they will land;
6. assemble the final file by streaming pages (``assemble.StreamingPdfWriter``) and write the
   outline; then the ZIP.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..clock import local_today
from ..extensions import db
from ..findings.service import findings_of
from ..models import Action, Campaign, CampaignCriterion, Criterion, Section, Site
from ..pdf import fonts as font_mod
from ..pdf.text import Styles, Text
from ..readiness.charts import readiness_bars
from ..readiness.rules import default_reference_date, readiness_of
from ..readiness.signoff import latest_signoff
from ..storage import EVIDENCE, storage_for, upload_tmp_dir
from ..storage.digest import digest_file
from .annexes import build_separators
from .assemble import AssemblyError, OutlineNode, StreamingPdfWriter
from .bundle import build_zip
from .collect import (
    AnnexKind,
    Piece,
    classify,
    excluded_personal_count,
    fetch,
    number_pieces,
    plan_annexes,
    select_links,
)
from .document import Content, Layout, build_main, day
from .options import DossierError, DossierOptions, DossierOptionsError

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


def check_options(campaign: Campaign, options: DossierOptions) -> _Scope:
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
        known = set(db.session.scalars(select(Section.id).where(
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


def build_dossier(campaign: Campaign, options: DossierOptions, pdf_path: Path, *,
                  zip_path: Path | None = None, progress: Progress | None = None,
                  today: date | None = None) -> DossierResult:
    """Build the dossier PDF at ``pdf_path`` (and the ZIP at ``zip_path``); ``progress`` is told
    the percentage done and the step, in French. The files appear whole or not at all."""
    report = progress or (lambda _percent, _label: None)
    app = current_app._get_current_object()
    report(0, _("Préparation"))
    font_set = font_mod.register_fonts(app.config.get("DOSSIER_FONT_DIR"))
    scope = check_options(campaign, options)
    today = today or local_today()
    as_of = options.as_of or default_reference_date(campaign, today)
    pdf_path = Path(pdf_path)

    report(3, _("Calcul de l’état de préparation"))
    site_id = options.site_ids[0] if len(options.site_ids) == 1 else None
    readiness = readiness_of(campaign, as_of, today=today, site_id=site_id)
    framework_ids = {f.id for f in scope.frameworks}
    judged = [c for c in readiness.criteria if c.framework_id in framework_ids
              and (not scope.section_ids or c.section_id in scope.section_ids)]
    readiness = dataclasses.replace(readiness, criteria=tuple(judged))
    by_id = {c.id: c for c in db.session.scalars(
        select(Criterion).where(Criterion.id.in_([j.criterion_id for j in judged] or [0])))}
    criteria = [by_id[j.criterion_id] for j in judged]
    criterion_ids = [c.id for c in criteria]

    links = select_links(campaign, criterion_ids, options.site_ids,
                         options.include_personal_data)
    pieces, per_criterion = number_pieces(criteria, links)
    excluded = 0 if options.include_personal_data else excluded_personal_count(
        campaign, criterion_ids, options.site_ids)

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

        styles = Styles()
        text = Text(font_set, styles)
        content = _content(campaign, options, scope, as_of, today, readiness, criteria,
                           judged, pieces, per_criterion, excluded, text)
        layout = Layout(
            school=campaign.school.name, campaign=campaign.name,
            footer_note=_("Dossier de preuves – date de référence : %(day)s", day=day(as_of)),
            annex_pages=annex_pages, with_annexes=options.with_annexes,
        )
        # A first guess for the page count saves a pass when it is right.
        layout.main_pages = 3 + len(criteria) // 3
        title = _("Dossier de preuves – %(school)s – %(campaign)s",
                  school=campaign.school.name, campaign=campaign.name)
        report(38, _("Mise en page du dossier"))
        main_path = work / "main.pdf"
        main_pages = build_main(main_path, content, text, layout, title=title,
                                author=campaign.school.name)

        separators = work / "annexes.pdf"
        with_annexes = options.with_annexes and bool(pieces)
        if with_annexes:
            report(65, _("Pages de séparation des annexes"))
            build_separators(separators, pieces, text, layout, as_of=as_of)

        report(75, _("Assemblage du PDF"))
        partial = pdf_path.with_name(pdf_path.name + ".part")
        try:
            page_count = _assemble(partial, main_path, separators if with_annexes else None,
                                   pieces, layout, content, title, campaign.school.name, report)
            expected = main_pages + (annex_pages if with_annexes else 0)
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


def _content(campaign, options, scope, as_of, today, readiness, criteria, judged, pieces,
             per_criterion, excluded, text) -> Content:
    decisions = {row.criterion_id: row for row in db.session.scalars(
        select(CampaignCriterion).where(CampaignCriterion.campaign_id == campaign.id))}
    judged_by_id = {j.criterion_id: j for j in judged}
    chapters = []
    for criterion in criteria:
        framework = next(f for f in scope.frameworks if f.id == criterion.framework_id)
        if not chapters or chapters[-1][0] is not framework:
            chapters.append((framework, []))
        sections = chapters[-1][1]
        if not sections or sections[-1][0].id != criterion.section_id:
            sections.append((criterion.section, []))
        decision = decisions.get(criterion.id)
        sections[-1][1].append((
            criterion, judged_by_id.get(criterion.id),
            decision.argument if decision else "",
            decision.not_applicable_reason if decision and not decision.applicable else "",
        ))
    framework_ids = {f.id for f in scope.frameworks}
    findings = [f for f in findings_of(db.session, campaign)
                if not options.framework_ids or f.framework_id in framework_ids]
    other_actions = [a for a in db.session.scalars(
        select(Action).where(Action.campaign_id == campaign.id)
        .order_by(Action.due_on, Action.id)) if not a.findings]
    meetings = [m for m in campaign.meetings
                if not options.site_ids or m.site_id is None or m.site_id in options.site_ids]
    indicators, charts = _indicators(campaign, options, as_of)
    return Content(
        campaign=campaign, school=campaign.school, frameworks=scope.frameworks,
        sites=scope.sites or list(campaign.school.sites), site_filter=bool(scope.sites),
        as_of=as_of, built_on=today, readiness=readiness, chapters=chapters, pieces=pieces,
        per_criterion=per_criterion, findings=findings, other_actions=other_actions,
        milestones=list(campaign.milestones), meetings=meetings,
        signoff=latest_signoff(campaign), indicators=indicators,
        with_annexes=options.with_annexes, include_personal_data=options.include_personal_data,
        excluded_personal=excluded, section_filter=bool(scope.section_ids),
        bars=readiness_bars(readiness) if readiness.criteria else None,
        indicator_charts=charts,
    )


def _indicators(campaign, options, as_of):
    """The key indicators table and charts; (None, []) when the school has entered none."""
    from ..indicators.charts import indicator_chart
    from ..indicators.service import indicator_table

    table = indicator_table(campaign.school, sites=list(options.site_ids) or None, end=as_of)
    if table.is_empty:
        return None, []
    charts = [indicator_chart(table, code) for code in ("qpv_rate", "positive_exit_rate")]
    return table, charts


def _assemble(path: Path, main_path: Path, separators: Path | None, pieces: list[Piece],
              layout: Layout, content: Content, title: str, author: str,
              report: Progress) -> int:
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
                            writer.append_pdf(piece.local_path)
                        except (AssemblyError, Exception) as error:
                            raise DossierError(_(
                                "La pièce %(number)s (« %(title)s ») n’a pas pu être jointe : "
                                "%(error)s", number=piece.number, title=piece.title,
                                error=error)) from error
                        if len(writer.page_ids) - before != piece.pdf_pages:
                            raise DossierError(_("La pièce %(number)s n’a pas le nombre de "
                                                 "pages prévu.", number=piece.number))
        return writer.close(title=title, author=author,
                            outline=_outline(layout, content, pieces, separators is not None))
    except BaseException:
        writer.abort()
        raise


def _outline(layout: Layout, content: Content, pieces: list[Piece],
             annexes: bool) -> list[OutlineNode]:
    """Bookmarks: cover, contents, summary, framework → section → criterion → pièces (each to
    its annex), the other parts, then the annexes one by one."""
    def at(key: str) -> tuple[int, float | None] | None:
        found = layout.positions.get(key)
        return (found[0] - 1, found[1]) if found else None

    def annex_index(piece: Piece) -> int:
        return layout.main_pages + piece.annex_offset

    def node(title: str, key: str) -> OutlineNode | None:
        found = at(key)
        return OutlineNode(title, found[0], found[1]) if found else None

    roots: list[OutlineNode] = [OutlineNode(_("Page de garde"), 0)]
    for title, key in ((_("Sommaire"), "sommaire"),
                       (_("Synthèse de l’état de préparation"), "synthese")):
        if (item := node(title, key)) is not None:
            roots.append(item)
    for framework, sections in content.chapters:
        fw_node = node(f"{framework.name} · v{framework.version}", f"fw-{framework.id}")
        if fw_node is None:
            continue
        fw_node.open = True
        roots.append(fw_node)
        for section, criteria in sections:
            sec_node = node(f"{section.code} – {section.title}", f"sec-{section.id}")
            if sec_node is None:
                continue
            fw_node.children.append(sec_node)
            for criterion, *_rest in criteria:
                crit_node = node(f"{criterion.code} – {criterion.title}", f"crit-{criterion.id}")
                if crit_node is None:
                    continue
                sec_node.children.append(crit_node)
                if annexes:
                    for piece in content.per_criterion.get(criterion.id, []):
                        crit_node.add(_("Pièce %(number)s – %(title)s", number=piece.number,
                                        title=piece.title), annex_index(piece))
    for title, key in ((_("Constats et plan d’actions"), "constats"),
                       (_("Indicateurs clés"), "indicateurs"),
                       (_("Calendrier de gouvernance"), "calendrier"),
                       (_("Manifeste des pièces"), "manifeste")):
        if (item := node(title, key)) is not None:
            roots.append(item)
    if annexes and pieces:
        annex_root = OutlineNode(_("Annexes"), annex_index(pieces[0]))
        for piece in pieces:
            annex_root.add(_("Pièce %(number)s – %(title)s", number=piece.number,
                             title=piece.title), annex_index(piece))
        roots.append(annex_root)
    return roots

