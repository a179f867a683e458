"""The E2C Var's working state at the seed's date, over the base demo (demo.py): proofs in the
library, the visite conseil's and the pré-audit's findings, and the action plan, two actions of
which are late. Everything goes through the same services as the pages, so the demo obeys the
product's rules; like a command, it commits what they flushed. ``flask setup --demo`` loads it;
tests of other areas use the base demo alone.

The findings follow the note of February 2018: a share of graduates above the network's target,
too few trainees from the QPV, a "logique de preuve" to systematise, a fast and innovative start;
the pré-audit raised no non-conformity (the note names none).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from .demo import DEMO_DOMAIN, SEED_DATE, shift_for
from .evidence import service as evidence
from .findings import service as findings
from .i18n import french_date
from .models import (
    ActionStatus,
    Campaign,
    CampaignCriterion,
    Criterion,
    EvidenceKind,
    FindingStatus,
    Meeting,
    MeetingKind,
    MilestoneKind,
    ReviewStatus,
    User,
)
from .readiness.snapshots import record_daily
from .storage import Storage


@dataclass
class Proof:
    key: str
    title: str
    kind: EvidenceKind
    site: str | None
    links: list[tuple[str, str, str]]  # framework code, criterion code, what it shows
    status: ReviewStatus
    lines: list[str] = field(default_factory=list)  # the PDF's text, for a document
    url: str | None = None
    paper: tuple[str, str] | None = None  # location, custodian
    valid_until: date | None = None
    covers: tuple[date, date] | None = None
    personal_data: bool = False
    owner: str = "qualite"


PROOFS = [
    Proof("prereport", "Rapport de pré-audit du référent réseau ({pre_audit_days})",
          EvidenceKind.FILE, None,
          [("e2c-label", "H5", "Rapport remis à l’issue du pré-audit ; avis favorable.")],
          ReviewStatus.VALIDATED,
          ["Rapport de pré-audit de labellisation – E2C Var",
           "Référent du Réseau E2C France – visite des 4 sites {pre_audit_span}.",
           "Avis : favorable à un audit de labellisation fin avril.",
           "Points forts : accompagnement de qualité, modèle innovant à fort potentiel.",
           "Points sensibles : part de stagiaires diplômés supérieure à la cible du réseau ;",
           "part de stagiaires issus des QPV (16 %) loin de l’objectif de 40 %.",
           "Piste de progrès : systématiser la logique de preuve."]),
    Proof("note", "Note d’avancement de {seed_month}", EvidenceKind.FILE, None,
          [("e2c-label", "A1", "Point mensuel présenté à la gouvernance."),
           ("e2c-label", "B5", "Tableau des entrées par site au {seed}."),
           ("e2c-label", "G3", "Taux de sorties positives par site et total pondéré.")],
          ReviewStatus.VALIDATED,
          ["Projet École de la 2e Chance du Var – point d’avancement",
           "Informations clés au {seed} : 252 stagiaires entrés, 16 % issus des QPV,",
           "236 entreprises ayant reçu des stagiaires, 46 % de sorties positives.",
           "30 sorties positives dont 15 en formation, 10 en emploi, 5 en alternance."],
          covers=(date(2018, 2, 1), SEED_DATE)),
    Proof("col-cavem", "Compte rendu du comité opérationnel local CAVEM", EvidenceKind.FILE,
          "cavem",
          [("e2c-label", "A2", "Comité présidé par la vice-présidente de la CAVEM.")],
          ReviewStatus.TO_REVIEW,
          ["Comité opérationnel local – site CAVEM",
           "Présidé par Mme Marenco-Druen, vice-présidente de la CAVEM.",
           "Bilan de l’année écoulée et perspectives : 10 stagiaires à recruter par mois.",
           "Taux de stagiaires diplômés à ramener sous 15 %.",
           "La mission locale encourage à diversifier les sources de recrutement."],
          owner="cavem"),
    Proof("provence-rose", "Convention de partenariat Provence Rosé (filière œno-viticole)",
          EvidenceKind.PAPER, "provence-verte",
          [("e2c-label", "D1", "Partenariat avec le cluster Provence Rosé."),
           ("e2c-label", "C5", "Formation pilote d’avril à juillet.")],
          ReviewStatus.TO_REVIEW,
          paper=("Site Provence Verte, bureau de direction, classeur « Partenariats »",
                 "Responsable du site Provence Verte"),
          owner="provence-verte"),
    Proof("dashboard", "Tableau de bord des entrées et sorties au {seed}", EvidenceKind.FILE,
          None,
          [("e2c-label", "B1", "Part de non-diplômés : 68 % (cible 85 %)."),
           ("e2c-label", "B2", "Part QPV : 16 % (cible 40 %)."),
           ("qualiopi-v9", "2", "Indicateurs de résultats suivis par site.")],
          ReviewStatus.VALIDATED,
          ["Tableau de bord E2C Var – entrées et sorties",
           "TPM : 134 entrés, 22 % QPV, 143 entreprises, 38 % de sorties positives.",
           "CAVEM : 48 entrés, 6 % QPV, 39 entreprises, 75 % de sorties positives.",
           "Provence Verte : 29 entrés, 14 % QPV, 33 entreprises, 50 % de sorties positives.",
           "Dracénie : 41 entrés, 10 % QPV, 21 entreprises, 50 % de sorties positives."],
          # Month-end figures: to be replaced before the audit, so the demo shows a proof
          # that is valid today but no longer at the audit.
          valid_until=date(2018, 3, 31)),
    Proof("website", "Page « Nos résultats » du site de l’E2C Var", EvidenceKind.LINK, None,
          [("qualiopi-v9", "2", "Taux de sorties positives publié."),
           ("e2c-label", "G3", "Publication du taux de sorties positives.")],
          ReviewStatus.DRAFT, url=f"https://www.{DEMO_DOMAIN}/nos-resultats"),
    Proof("suivi-tpm", "Émargements des commissions de suivi des stagiaires (TPM)",
          EvidenceKind.PAPER, "tpm",
          [("e2c-label", "F2", "Commissions bimestrielles avec les partenaires.")],
          ReviewStatus.VALIDATED,
          paper=("Site TPM, bureau des référents, classeur « Commissions de suivi »",
                 "Responsable du site TPM"),
          personal_data=True, owner="tpm"),
    Proof("relais-qpv", "Compte rendu de la rencontre des relais des quartiers prioritaires",
          EvidenceKind.FILE, "tpm",
          [("e2c-label", "B3", "Une trentaine de relais mobilisés pour le recrutement."),
           ("e2c-label", "B2", "Action ciblée sur les jeunes des QPV.")],
          ReviewStatus.TO_REVIEW,
          ["Rencontre des relais des quartiers prioritaires – site TPM, {relais_day}",
           "Une trentaine de personnes et d’organismes ont participé.",
           "Objectif : « capter » les jeunes du public cible hors de tout dispositif."],
          owner="tpm"),
    Proof("plombiers", "Convention tripartite Plombiers du Numérique – Altitude Infrastructure "
          "(projet)", EvidenceKind.FILE, None,
          [("e2c-label", "D1", "Partenariat en cours de conclusion : formation de 3 mois.")],
          ReviewStatus.DRAFT,
          ["Projet de convention tripartite – filière Plombiers du numérique",
           "Formation non diplômante de 3 mois, 6 sessions par an, techniciens de la fibre.",
           "Plateau technique fourni à l’E2C Var ; début dans l’année, date à fixer."]),
    # The school marks this one as its organigramme on its presentation (load_demo_story).
    Proof("organigramme", "Organigramme de l’E2C Var ({seed_month})", EvidenceKind.FILE, None,
          [("e2c-label", "A1", "Gouvernance et équipe de coordination.")],
          ReviewStatus.VALIDATED,
          ["Organigramme de l’E2C Var – {seed_month}",
           "Gouvernance : comité stratégique, sous-comité financier.",
           "Direction et équipe de coordination : responsable qualité, chargé de "
           "développement réseaux.",
           "Sites TPM, CAVEM, Provence Verte, Dracénie : responsable de site, formateurs, "
           "chargés de relations entreprises."]),
    # Minutes of a meeting held (below, HELD_MEETINGS): a pièce of the dossier's governance
    # section, linked to no criterion. Decisions only, no trainee named.
    Proof("suivi-tpm-fevrier", "Relevé de décisions de la commission de suivi des stagiaires "
          "TPM ({review_month})", EvidenceKind.FILE, "tpm", [], ReviewStatus.VALIDATED,
          ["Commission de suivi des stagiaires – site TPM, {review_month}",
           "Partenaires présents : mission locale, APS, LVP.",
           "Situations examinées en profondeur avec les partenaires concernés ;",
           "relevé de décisions sans donnée nominative."], owner="tpm"),
    Proof("aca", "Modèle d’Attestation de Compétences Acquises (ACA)", EvidenceKind.FILE, None,
          [("e2c-label", "E3", "Modèle en usage sur les 4 sites.")],
          ReviewStatus.VALIDATED,
          ["Attestation de Compétences Acquises",
           "Compétences évaluées en centre et en entreprise, référentiel du Réseau E2C France."]),
]

# Meetings the note says were held before its date, with their minutes: the comité
# opérationnel local of CAVEM « depuis le début de l'année » and the commissions de suivi
# « réalisées sur les 4 sites ». The days are ours; the note gives none.
HELD_MEETINGS = [  # kind, site, title, held on (seed dates), hours, minutes (a proof's key)
    (MeetingKind.LOCAL_COMMITTEE, "cavem",
     "Comité opérationnel local CAVEM – bilan et perspectives", date(2018, 1, 23),
     (time(10, 30), time(12, 0)), "col-cavem"),
    (MeetingKind.TRAINEE_REVIEW, "tpm",
     "Commission de suivi des stagiaires – TPM ({review_month_name})",
     date(2018, 2, 15), (time(14, 0), time(16, 0)), "suivi-tpm-fevrier"),
]

# (milestone kind, finding type, title, criteria, site, description)
FINDINGS = [
    (MilestoneKind.ADVISORY_VISIT, "point_sensible",
     "Part de stagiaires diplômés au-dessus de la cible du réseau", ["B1"], None,
     "Les entrées comptent trop de jeunes déjà diplômés au regard du public cible."),
    (MilestoneKind.ADVISORY_VISIT, "piste_progres",
     "Systématiser la logique de preuve", ["H2"], None, ""),
    (MilestoneKind.PRE_AUDIT, "point_fort",
     "Accompagnement de qualité des stagiaires et modèle innovant à fort potentiel",
     ["C2", "C4"], None, ""),
    (MilestoneKind.PRE_AUDIT, "point_fort",
     "Déploiement rapide : 4 sites ouverts en 7 mois, 236 entreprises partenaires",
     ["A3", "D5"], None, ""),
    (MilestoneKind.PRE_AUDIT, "point_sensible",
     "Part de stagiaires diplômés encore trop élevée (32 % ; objectif : moins de 15 %)",
     ["B1"], None,
     "Mesures prises depuis la visite conseil, effet encore insuffisant au {seed}."),
    (MilestoneKind.PRE_AUDIT, "point_sensible",
     "Part de stagiaires issus des QPV insuffisante (16 % ; objectif : 40 %)",
     ["B2"], None, "CAVEM 6 %, Dracénie 10 %, Provence Verte 14 %, TPM 22 %."),
    # The note: « depuis le début de l'année », only CAVEM's comité opérationnel local was held;
    # the others are among its « prochaines dates ». A point to watch, not a non-conformity:
    # the note names none.
    (MilestoneKind.PRE_AUDIT, "point_vigilance",
     "Comptes rendus des comités opérationnels locaux à formaliser sur chaque site",
     ["A2"], None, "Seul le comité du site CAVEM s’est tenu et dispose d’un compte rendu."),
    (MilestoneKind.PRE_AUDIT, "point_vigilance",
     "Recrutement du site Provence Verte à sécuriser", ["B5"], "provence-verte",
     "La chargée de recrutement pressentie n’est pas encore en poste."),
    (MilestoneKind.PRE_AUDIT, "piste_progres",
     "Logique de preuve à systématiser : preuves dispersées entre sites", ["H2"], None, ""),
]

# (title, owner, site, due (seed dates), status, finding titles, criteria, description)
ACTIONS = [
    ("Rééquilibrer les entrées vers les jeunes non diplômés", "direction", None,
     date(2018, 4, 13), ActionStatus.IN_PROGRESS,
     ["Part de stagiaires diplômés encore trop élevée"], ["B1"],
     "Critères d’entrée revus avec les prescripteurs ; suivi mensuel de la part de diplômés."),
    ("Mobiliser les relais de quartier pour le recrutement en QPV", "tpm", "tpm",
     date(2018, 3, 30), ActionStatus.IN_PROGRESS,
     ["Part de stagiaires issus des QPV insuffisante"], ["B2", "B3"], ""),
    # Planned after the visite conseil, due before the pré-audit: 9 days late on 28/02.
    ("Classer chaque preuve par critère dans l’outil qualité", "qualite", None,
     date(2018, 2, 19), ActionStatus.TODO,
     ["Systématiser la logique de preuve"], ["H2"], ""),
    ("Formaliser et diffuser les comptes rendus des comités opérationnels locaux", "cavem",
     "cavem", date(2018, 2, 23), ActionStatus.TODO,
     ["Comptes rendus des comités opérationnels locaux"], ["A2"], ""),
    ("Recruter la chargée de recrutement du site Provence Verte", "provence-verte",
     "provence-verte", date(2018, 3, 15), ActionStatus.IN_PROGRESS,
     ["Recrutement du site Provence Verte"], ["B5"], ""),
    ("Publier le taux de sorties positives par site sur le site web", "qualite", None,
     date(2018, 4, 6), ActionStatus.TODO, [], ["G3"], ""),
]


def _pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF holding these lines: enough to open, preview, search and hash."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    page.setTitle(lines[0])
    page.setFont("Helvetica-Bold", 14)
    page.drawString(60, 780, lines[0])
    page.setFont("Helvetica", 11)
    for index, line in enumerate(lines[1:]):
        page.drawString(60, 750 - 18 * index, line)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _days(first: date, last: date) -> tuple[str, str]:
    """A visit's days in a title and in a sentence: « 20-22 février 2018 », « du 20 au 22
    février 2018 »; across two months « 30 janvier-1er février 2027 »."""
    end = french_date(last)
    start = (french_date(first, "d") if (first.year, first.month) == (last.year, last.month)
             else french_date(first, "d MMMM"))
    start = start.replace("1", "1er") if start == "1" else start
    return f"{start}-{end}", f"du {start} au {end}"


def _story_words(campaign: Campaign, offset: timedelta) -> dict[str, str]:
    """The dates the story's documents name, moved with the demo: a shifted demo's proofs do
    not speak of February 2018 (the note's own words are kept at the real dates)."""
    seed = SEED_DATE + offset
    pre_audit = next(m for m in campaign.milestones if m.kind is MilestoneKind.PRE_AUDIT)
    relais = next(m for m in campaign.meetings if m.title.startswith("Rencontre des relais"))
    review = next(day for *_, day, _hours, key in HELD_MEETINGS
                  if key == "suivi-tpm-fevrier") + offset
    days, span = _days(pre_audit.starts_on, pre_audit.ends_on or pre_audit.starts_on)
    return {"seed": f"{seed:%d/%m/%Y}", "seed_month": french_date(seed, "MMMM yyyy"),
            "pre_audit_days": days, "pre_audit_span": span,
            "relais_day": french_date(relais.held_on),
            "review_month": french_date(review, "MMMM yyyy"),
            "review_month_name": french_date(review, "MMMM")}


def _month_to(first: date, last: date, offset: timedelta) -> tuple[date, date]:
    """A period ending on ``last`` moved by ``offset``; one starting a month still starts it."""
    end = last + offset
    return (end.replace(day=1) if first.day == 1 else first + offset), end


def load_demo_story(session: Session, storage: Storage, tmp_dir: Path,
                    today: date | None = None) -> dict[str, int]:
    """Add the proofs, findings and actions of the story; returns how many of each."""
    offset = shift_for(today)
    day = today or SEED_DATE
    campaign = session.scalar(select(Campaign).order_by(Campaign.id).limit(1))

    def snapshot(days_ago: int) -> None:
        """The dashboard's trend, computed by the real rules as the story unfolds: three weeks
        ago nothing was filed, two weeks ago half the proofs, a week ago all of them; the
        findings and the action plan came this week."""
        record_daily(session, campaign, day - timedelta(days=days_ago), replace=True)

    snapshot(21)
    users = {u.email.split("@")[0]: u for u in session.scalars(
        select(User).where(User.school_id == campaign.school_id))}
    sites = {s.code: s for s in campaign.school.sites}
    frameworks = {f.code: f for f in campaign.frameworks}

    def criterion(framework_code: str, code: str) -> Criterion:
        return session.scalars(select(Criterion).where(
            Criterion.framework_id == frameworks[framework_code].id, Criterion.code == code)).one()

    words = _story_words(campaign, offset)
    proofs = {}
    for proof in PROOFS:
        author = users[proof.owner]
        title = proof.title.format_map(words)
        upload = None
        if proof.kind is EvidenceKind.FILE:
            filename = title.replace("/", "-")[:90] + ".pdf"  # a date's slashes
            lines = [line.format_map(words) for line in proof.lines]
            upload = evidence.receive_file(io.BytesIO(_pdf(lines)), filename, tmp_dir,
                                           10 * 1024 * 1024)
        covers = _month_to(*proof.covers, offset) if proof.covers else (None, None)
        item = evidence.create_evidence(
            session, storage, school=campaign.school, author=author, upload=upload,
            fields=evidence.EvidenceFields(
                title=title, kind=proof.kind, site=sites.get(proof.site),
                url=proof.url, paper_location=proof.paper[0] if proof.paper else None,
                paper_custodian=proof.paper[1] if proof.paper else None,
                valid_until=proof.valid_until + offset if proof.valid_until else None,
                covers_from=covers[0], covers_to=covers[1],
                personal_data=proof.personal_data,
                retention_until=date(2023, 12, 31) + offset if proof.personal_data else None,
            ))
        for framework_code, code, note in proof.links:
            evidence.link_criterion(session, item, criterion(framework_code, code),
                                    note.format_map(words), author)
        if proof.status is not ReviewStatus.DRAFT:
            evidence.submit_for_review(session, item, author)
        if proof.status in {ReviewStatus.VALIDATED, ReviewStatus.REFUSED}:
            evidence.review(session, item, users["direction"], proof.status)
        proofs[proof.key] = item
        if len(proofs) == len(PROOFS) // 2:
            snapshot(14)

    milestones = {m.kind: m for m in campaign.milestones}
    milestones[MilestoneKind.PRE_AUDIT].report_evidence = proofs["prereport"]
    relais = next(m for m in campaign.meetings if m.title.startswith("Rencontre des relais"))
    relais.minutes_evidence = proofs["relais-qpv"]
    if campaign.school.profile is not None:
        campaign.school.profile.organigramme = proofs["organigramme"]
    for body, body_site, body_title, held_on, hours, minutes in HELD_MEETINGS:
        campaign.meetings.append(Meeting(
            kind=body, site=sites[body_site], title=body_title.format_map(words),
            held_on=held_on + offset,
            starts_at=hours[0], ends_at=hours[1], minutes_evidence=proofs[minutes]))
    session.commit()
    snapshot(7)

    created = []
    for kind, type_code, title, codes, site, description in FINDINGS:
        created.append(findings.create_finding(
            session, milestones[kind], users["qualite"], findings.FindingInput(
                framework=frameworks["e2c-label"], type_code=type_code, title=title,
                description=description.format_map(words),
                criteria=[criterion("e2c-label", c) for c in codes],
                site=sites.get(site))))
    for title, owner, site, due, status, finding_titles, codes, description in ACTIONS:
        answered = [f for f in created if any(f.title.startswith(t) for t in finding_titles)]
        action = findings.create_action(
            session, campaign, users["qualite"], findings.ActionInput(
                title=title, owner=users[owner], due_on=due + offset, description=description,
                site=sites.get(site), findings=answered,
                criteria=[criterion("e2c-label", c) for c in codes]))
        if status is not ActionStatus.TODO:
            findings.set_action_status(session, action, status, users["qualite"],
                                       today=(today or date(2018, 2, 28)) - timedelta(days=1))
    # What the visite conseil raised is being answered: the pré-audit saw the first effects.
    for finding in created[:2]:
        findings.set_finding_status(session, finding, FindingStatus.IN_PROGRESS, users["qualite"])
    _write_arguments(session, campaign, criterion, users["qualite"])
    snapshot(0)
    session.commit()
    return {"proofs": len(proofs), "findings": len(created), "actions": len(ACTIONS)}


# The school's argument for the four indispensable criteria, in the words of the February 2018
# note; the dossier carries them in front of each criterion's pièces.
ARGUMENTS = {
    "A3": "L’école dispose de **moyens dédiés** sur chacun de ses quatre sites : une équipe de "
          "formateurs et de chargés de relations entreprises, des locaux propres, un budget "
          "suivi en sous-comité financier (FSE, État, Région PACA).",
    "C2": "Chaque stagiaire suit un **parcours individualisé** : entretien d’entrée, contrat "
          "d’engagement, alternance entre l’école et l’entreprise, bilans réguliers.\n\n"
          "- positionnement à l’entrée ;\n- plan de formation revu en commission de suivi ;\n"
          "- attestation de compétences acquises à la sortie.",
    "D1": "La **relation avec les entreprises** est formalisée : 236 entreprises ont accueilli "
          "un stagiaire depuis l’ouverture du premier site ; conventions de stage et filières "
          "(œno-viticole, Plombiers du numérique, Sport Animation Tourisme).",
    "H1": "La **démarche qualité** est portée par la responsable qualité ; la logique de preuve "
          "est systématisée depuis la visite conseil et suivie en comité opérationnel.",
}


# The school's self-assessment of the criteria it argues, on the E2C scale (data).
LEVELS = {"A3": "maitrise", "C2": "maitrise", "D1": "en_place", "H1": "en_cours"}


def _write_arguments(session: Session, campaign: Campaign,
                     criterion: Callable[[str, str], Criterion], author: User) -> None:
    for code, text in ARGUMENTS.items():
        session.add(CampaignCriterion(campaign_id=campaign.id,
                                      criterion_id=criterion("e2c-label", code).id,
                                      argument=text, self_assessment=LEVELS.get(code),
                                      updated_by=author))
