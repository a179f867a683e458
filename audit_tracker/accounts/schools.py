"""Schools of the network on one instance: an administrator creates one with its sites, the
référentiels it follows and its first account (the director), who then creates the others.
Everything else stays per school."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..domain.errors import DomainError, flush_or_conflict
from ..models import Framework, Role, School, SchoolReferentiel, Site, User
from .service import AccountError, create_user

SITE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
MAX_SITES = 30


class SchoolError(DomainError):
    """Why a school cannot be created, in French."""


@dataclass
class NewSchool:
    name: str
    short_name: str
    director_email: str
    director_name: str
    city: str = ""
    sites: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    referentiels: list[str] = field(default_factory=list)  # framework codes


@dataclass(frozen=True)
class CreatedSchool:
    school: School
    director: User
    password: str  # shown once, never stored in clear


def parse_sites(text: str) -> list[tuple[str, str]]:
    """One site a line, « CODE ; Nom » (or « CODE = Nom »); SchoolError naming the bad line."""
    sites: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = re.fullmatch(r"\s*([^;=]+?)\s*[;=]\s*(.+?)\s*", line)
        if match is None:
            raise SchoolError(_("Ligne %(line)s des sites : écrivez « CODE ; Nom du site ».",
                                line=number))
        code, name = match.groups()
        sites.append((code.strip(), name.strip()))
    return sites


def create_school(session: Session, new: NewSchool) -> CreatedSchool:
    """The school, its sites and its director (a generated password); flushed, not committed."""
    name, short_name = new.name.strip(), new.short_name.strip()
    if not name or not short_name:
        raise SchoolError(_("Le nom et le nom court de l’école sont obligatoires."))
    if len(name) > 200 or len(short_name) > 60 or len(new.city) > 120:
        raise SchoolError(_("Nom (200), nom court (60) ou ville (120) trop long."))
    taken = session.scalar(select(School.id).where(
        func.lower(School.short_name) == short_name.lower()))
    if taken:
        raise SchoolError(_("Une école porte déjà le nom court « %(name)s ».", name=short_name))
    if not new.sites:
        raise SchoolError(_("Indiquez au moins un site."))
    if len(new.sites) > MAX_SITES:
        raise SchoolError(_("%(count)s sites au plus.", count=MAX_SITES))
    codes = [code.upper() for code, _name in new.sites]
    for code, site_name in new.sites:
        if not SITE_CODE.fullmatch(code) or len(site_name) > 120:
            raise SchoolError(_("Site « %(code)s » : code de 1 à 40 lettres, chiffres, - ou _, "
                                "nom de 120 caractères au plus.", code=code[:40]))
    if len(set(codes)) != len(codes):
        raise SchoolError(_("Deux sites portent le même code."))
    followed = _checked_referentiels(session, new.referentiels)
    school = School(name=name, short_name=short_name, city=new.city.strip() or None)
    school.sites = [Site(code=code.upper(), name=site_name) for code, site_name in new.sites]
    school.referentiels = [SchoolReferentiel(code=code) for code in followed]
    session.add(school)
    session.flush()
    password = secrets.token_urlsafe(12)
    try:
        director = create_user(session, school, new.director_email,
                               new.director_name.strip() or new.director_email, Role.DIRECTOR,
                               password)
    except AccountError as error:
        raise SchoolError(_("Un compte existe déjà avec l’adresse %(email)s.",
                            email=new.director_email.strip().lower())) from error
    return CreatedSchool(school, director, password)


def follow_referentiels(session: Session, school: School, codes: list[str]) -> None:
    """The référentiels the school follows from now on; flushed, each one added or dropped
    journaled as a row of the school's."""
    wanted = _checked_referentiels(session, codes)
    known: set[str] = set()
    for followed in list(school.referentiels):
        if followed.code in wanted:
            known.add(followed.code)
        else:
            # Deleted by name, not left an orphan: the journal sees what a flush was asked to
            # delete, not what the flush itself finds orphaned.
            school.referentiels.remove(followed)
            session.delete(followed)
    school.referentiels.extend(SchoolReferentiel(code=code) for code in wanted
                               if code not in known)
    flush_or_conflict(session)  # two saves adding one code at once: the second is told


def _checked_referentiels(session: Session, codes: list[str]) -> list[str]:
    """The codes, stripped and once each, all of référentiels of the instance; at least one."""
    wanted = sorted({code.strip() for code in codes if code.strip()})
    if not wanted:
        raise SchoolError(_("Choisissez au moins un référentiel suivi par l’école."))
    known = set(session.scalars(select(Framework.code).where(Framework.code.in_(wanted))))
    unknown = [code for code in wanted if code not in known]
    if unknown:
        raise SchoolError(_("Référentiel inconnu : %(codes)s. Importez-le d’abord ou choisissez "
                            "parmi ceux de l’instance.", codes=", ".join(unknown)[:200]))
    return wanted


def schools_overview(session: Session) -> list[tuple[School, int, int]]:
    """Every school with its number of sites and of accounts (its référentiels loaded), by name."""
    sites = (select(Site.school_id, func.count(Site.id).label("n"))
             .group_by(Site.school_id).subquery())
    users = (select(User.school_id, func.count(User.id).label("n"))
             .group_by(User.school_id).subquery())
    rows = session.execute(
        select(School, func.coalesce(sites.c.n, 0), func.coalesce(users.c.n, 0))
        .outerjoin(sites, sites.c.school_id == School.id)
        .outerjoin(users, users.c.school_id == School.id)
        .options(selectinload(School.referentiels))
        .order_by(School.name))
    return [(school, int(n_sites), int(n_users)) for school, n_sites, n_users in rows]
