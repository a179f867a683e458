"""Demo data from the source case: E2C Var at the end of February 2018, two months before its
AFNOR label audit (see shared/domain). Loaded at the real dates, or shifted by whole weeks so
that the seed's date (Wednesday 28 Feb 2018) falls on the Wednesday nearest today: every interval
and every weekday is kept (the audit stays a Tuesday-Thursday, a committee keeps its day), and a
newcomer sees a live countdown of 55 days, give or take three. The sites' openings move by
whole months instead, with the monthly figures that start on them (``opening_day``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

import pyotp
from sqlalchemy.orm import Session

from .indicators.demo import SEED_MONTH, add_months, load_demo_indicators, months_between
from .models import (
    Campaign,
    Meeting,
    MeetingKind,
    Milestone,
    MilestoneKind,
    Role,
    School,
    SchoolProfile,
    SchoolReferentiel,
    Site,
    User,
)
from .referentiel.importer import latest_framework

SEED_DATE = date(2018, 2, 28)
AFNOR_AUDIT_DAY = date(2018, 4, 24)
DEMO_DOMAIN = "e2c-var.example"

SITES = [  # code, name, opened on (seed table "Informations clés au 28/02/2018")
    ("tpm", "Site TPM (Toulon Provence Méditerranée)", date(2017, 3, 13)),
    ("cavem", "Site CAVEM (Var Estérel Méditerranée)", date(2017, 6, 26)),
    ("provence-verte", "Site Provence Verte", date(2017, 9, 25)),
    ("dracenie", "Site Dracénie", date(2017, 10, 23)),
]

# The note names neither the sites' streets, nor their capacities, nor their staff: the towns
# are the agglomerations' seats, the figures are plausible ones for the demo (TPM, the oldest
# and largest site, takes the most).
SITE_DETAILS = {  # code: address, capacity (places), staff (ETP)
    "tpm": ("Toulon (Var) – agglomération Toulon Provence Méditerranée", 60, Decimal("7.5")),
    "cavem": ("Fréjus (Var) – Var Estérel Méditerranée", 30, Decimal("4")),
    "provence-verte": ("Brignoles (Var) – Provence Verte", 20, Decimal("3")),
    "dracenie": ("Draguignan (Var) – Dracénie Provence Verdon agglomération", 20, Decimal("3")),
}

# The school's presentation, from the note: its bodies (the annex's calendar), its funders
# (the co-funding mention at the foot of the note), and the partners it names.
PROFILE = {
    "legal_name": "École de la 2e Chance du Var (E2C Var)",
    # The note's « groupe UPV » pools staff « des différentes associations »: the school is one.
    "legal_form": "Association loi 1901, membre du groupe UPV",
    "head_office": "Toulon (Var)",
    "governance": "\n".join([
        "Comité stratégique – orientations, bilan annuel et perspectives",
        "Sous-comité financier – budget prévisionnel et suivi des financements",
        "Comités opérationnels locaux – un par site, présidés avec l’agglomération",
        "Commissions de suivi des stagiaires – une par site, tous les deux mois, avec les "
        "partenaires",
    ]),
    "funders": "\n".join([
        "Union européenne – Fonds Social Européen (FSE)",
        "État",
        "Région Provence-Alpes-Côte d’Azur",
        "Agglomérations des sites (TPM, CAVEM, Provence Verte, Dracénie)",
        "Taxe d’apprentissage (cellule de collecte du groupe UPV)",
    ]),
    "partners": "\n".join([
        "Réseau E2C France",
        "Missions locales",
        "Cluster Provence Rosé (filière œno-viticole)",
        "Association des Plombiers du Numérique et Altitude Infrastructure (fibre optique)",
        "AFPA (FabLab), ACCES, AVAF, Entreprendre pour agir",
        "Evo Job, A2I, Armée, Police, Chambre des métiers",
        "APS et LVP (commissions de suivi)",
    ]),
    "cofunding_statement": (
        "Cette formation est cofinancée par l’Union Européenne, l’État et la Région Provence "
        "Alpes Côte d’Azur. L’Europe s’engage en Provence Alpes Côte d’Azur avec le Fonds "
        "Social Européen."),
    "staff_fte": Decimal("4"),  # the coordination team (the note names a chargé de dévelop-
    # pement réseaux joining it): plausible for the demo
}

MILESTONES = [  # kind, title, start, end, place, notes
    (
        MilestoneKind.ADVISORY_VISIT,
        "Visite conseil du réseau E2C France",
        date(2017, 12, 12),
        None,
        "",
        # The note dates the visit to December 2017 without a day: the 12th is our choice.
        "Suite à la visite, l’école a pris des mesures pour ramener la part de stagiaires "
        "diplômés vers les cibles du réseau et accéléré la systématisation de la logique "
        "de preuve.",
    ),
    (
        MilestoneKind.PRE_AUDIT,
        "Pré-audit de labellisation",
        date(2018, 2, 20),
        date(2018, 2, 22),
        "Sites E2C Var",
        "Réalisé par le référent réseau E2C France ; avis favorable pour l’audit "
        "de labellisation.",
    ),
    (
        MilestoneKind.INITIAL_AUDIT,
        "Audit de labellisation AFNOR Certification",
        AFNOR_AUDIT_DAY,
        date(2018, 4, 26),
        "Sites E2C Var",
        "",
    ),
    (
        MilestoneKind.NATIONAL_COMMISSION,
        "Commission Nationale de Labellisation",
        date(2018, 5, 17),
        None,
        "Réseau E2C France",
        "",
    ),
    (
        MilestoneKind.OTHER,
        "Inauguration du site Dracénie et célébration du label",
        date(2018, 6, 1),
        None,
        "Site Dracénie",
        "Date à confirmer avec l’agglomération (CAD) : deux à trois semaines après la "
        "commission.",
    ),
]

_AM, _PM = (time(10, 30), time(12, 0)), (time(14, 0), time(15, 30))
_SUIVI_PM, _SUIVI_AM = (time(14, 0), time(16, 0)), (time(10, 0), time(12, 0))

# The annex prints the comités opérationnels locaux as "/17" under "Prochaines dates" of a
# February 2018 note: read as 2018.
MEETINGS = [  # kind, site code or None, title, day, (start, end), notes
    (
        MeetingKind.OTHER,
        "tpm",
        "Rencontre des relais des quartiers prioritaires",
        date(2018, 2, 8),
        (None, None),
        "Une trentaine de participants prêts à aider au recrutement.",
    ),
    (MeetingKind.FINANCE_SUBCOMMITTEE, None, "Sous-comité financier", date(2018, 5, 29), _PM, ""),
    (MeetingKind.STRATEGY_COMMITTEE, None, "Comité stratégique", date(2018, 6, 12), _PM, ""),
    (
        MeetingKind.LOCAL_COMMITTEE,
        "cavem",
        "Comité opérationnel local CAVEM",
        date(2018, 6, 19),
        _AM,
        "",
    ),
    (
        MeetingKind.LOCAL_COMMITTEE,
        "tpm",
        "Comité opérationnel local TPM",
        date(2018, 6, 21),
        _AM,
        "",
    ),
    (
        MeetingKind.LOCAL_COMMITTEE,
        "dracenie",
        "Comité opérationnel local Dracénie",
        date(2018, 6, 26),
        _PM,
        "",
    ),
    (
        MeetingKind.LOCAL_COMMITTEE,
        "provence-verte",
        "Comité opérationnel local Provence Verte",
        date(2018, 6, 27),
        _AM,
        "",
    ),
] + [
    (
        MeetingKind.TRAINEE_REVIEW,
        site,
        f"Commission de suivi des stagiaires – {label}",
        day,
        hours,
        "",
    )
    for site, label, hours, days in [
        ("cavem", "CAVEM", _SUIVI_PM, [(3, 13), (5, 15), (7, 10)]),
        ("dracenie", "Dracénie", _SUIVI_AM, [(3, 20), (5, 22), (7, 24)]),
        ("provence-verte", "Provence Verte", _SUIVI_PM, [(3, 21), (5, 23), (7, 25)]),
        ("tpm", "TPM", _SUIVI_PM, [(3, 15), (5, 17), (7, 12)]),
    ]
    for day in (date(2018, month, d) for month, d in days)
]

ACCOUNTS = [  # local part, full name, role, site code
    ("admin", "Administrateur de la plateforme", Role.ADMIN, None),
    ("direction", "Direction de l’E2C Var", Role.DIRECTOR, None),
    ("qualite", "Responsable qualité E2C Var", Role.QUALITY_LEAD, None),
    ("tpm", "Responsable du site TPM", Role.SITE_MANAGER, "tpm"),
    ("cavem", "Responsable du site CAVEM", Role.SITE_MANAGER, "cavem"),
    ("provence-verte", "Responsable du site Provence Verte", Role.SITE_MANAGER, "provence-verte"),
    ("dracenie", "Responsable du site Dracénie", Role.SITE_MANAGER, "dracenie"),
    ("auditeur", "Auditeur AFNOR Certification (démo)", Role.AUDITOR, None),
]


@dataclass
class DemoAccount:
    email: str
    role: Role
    password: str
    # The TOTP key of the accounts the demo school requires it of (direction, admin).
    totp_secret: str | None = None


def shift_for(today: date | None) -> timedelta:
    """The whole number of weeks that moves the seed's date nearest ``today`` (none for the
    real dates): a shift by days would put the Tuesday audit on a Saturday."""
    if today is None:
        return timedelta(0)
    return timedelta(weeks=round((today - SEED_DATE).days / 7))


def seed_day(today: date | None) -> date:
    """The day that plays the seed's 28 Feb 2018 in a demo shifted for ``today``."""
    return SEED_DATE + shift_for(today)


def opening_day(opened: date, today: date | None) -> date:
    """A site's opening in the demo shifted for ``today``: the same weekday of the same rank (the
    2nd Monday, the 4th…) in the month its figures start, which moves by whole months (the last
    such weekday when that month has no fifth one)."""
    month = add_months(opened.replace(day=1),
                       months_between(SEED_MONTH, seed_day(today)))
    rank = (opened.day - 1) // 7
    first = month + timedelta(days=(opened.weekday() - month.weekday()) % 7)
    day = first + timedelta(weeks=rank)
    return day if day.month == month.month else day - timedelta(weeks=1)


def load_demo(session: Session, today: date | None = None) -> list[DemoAccount]:
    """Add the E2C Var school, sites, campaign and accounts; returns the accounts' passwords.

    With ``today`` every date moves by the same whole number of weeks (``shift_for``).
    """
    offset = shift_for(today)

    def when(day: date) -> date:
        return day + offset

    # Two-factor on, as a careful school runs it; its direction and admin come enrolled (their
    # keys are listed with the passwords) so that the demo opens without an enrolment step.
    school = School(name="École de la 2e Chance du Var", short_name="E2C Var", four_eyes=True,
                    require_totp=True)
    sites = {
        code: Site(code=code, name=name, opened_on=opening_day(opened, today))
        for code, name, opened in SITES
    }
    for code, (address, capacity, staff) in SITE_DETAILS.items():
        sites[code].address, sites[code].capacity, sites[code].staff_fte = (
            address, capacity, staff)
    school.sites = list(sites.values())
    school.profile = SchoolProfile(**PROFILE)
    # The E2C Var follows the label and Qualiopi, like every school of the network.
    school.referentiels = [SchoolReferentiel(code=code) for code in ("e2c-label", "qualiopi-v9")
                           if latest_framework(session, code) is not None]
    session.add(school)

    campaign = Campaign(
        school=school,
        # Named after the audit's year, so the shifted demo does not call a 2027 audit "2018".
        name=f"Labellisation E2C {when(AFNOR_AUDIT_DAY).year}",
        description=(
            "Campagne de labellisation E2C France de l’E2C Var : visite conseil, pré-audit par "
            "le référent réseau, audit AFNOR Certification, puis Commission "
            "Nationale de Labellisation. Objectif du réseau et des financeurs : **40 %** de "
            "stagiaires issus des QPV et **85 %** de non-diplômés."
        ),
        frameworks=[
            f
            for f in (
                latest_framework(session, "e2c-label"),
                latest_framework(session, "qualiopi-v9"),
            )
            if f
        ],
        # An E2C runs actions de formation: Qualiopi's CFA-only indicators do not apply.
        categories=["AF"],
    )
    campaign.milestones = [
        Milestone(
            kind=kind,
            title=title,
            starts_on=when(start),
            ends_on=when(end) if end else None,
            place=place,
            notes=notes,
        )
        for kind, title, start, end, place, notes in MILESTONES
    ]
    campaign.meetings = [
        Meeting(
            kind=kind,
            site=sites.get(site) if site else None,
            title=title,
            held_on=when(day),
            starts_at=hours[0],
            ends_at=hours[1],
            notes=notes,
        )
        for kind, site, title, day, hours, notes in MEETINGS
    ]
    session.add(campaign)

    accounts = []
    for local, full_name, role, site in ACCOUNTS:
        password = secrets.token_urlsafe(9)
        user = User(
            email=f"{local}@{DEMO_DOMAIN}",
            full_name=full_name,
            role=role,
            school=school,
            site=sites[site] if site else None,
        )
        user.set_password(password)
        if role in (Role.DIRECTOR, Role.ADMIN):
            user.totp_secret = pyotp.random_base32()
        session.add(user)
        accounts.append(DemoAccount(user.email, role, password, user.totp_secret))
    load_demo_indicators(session, school, offset)
    session.flush()
    return accounts
