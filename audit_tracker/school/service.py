"""Read and save the school's presentation; the dossier's « Présentation de l'école » reads it
through :func:`presentation`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.errors import DomainError, check_fresh, flush_or_conflict
from ..models import Evidence, ReviewStatus, School, SchoolProfile, Site, User


class SchoolProfileError(DomainError):
    """A presentation refused (a proof or a site of another school), in French."""


@dataclass(frozen=True)
class ProfileInput:
    legal_name: str = ""
    legal_form: str = ""
    head_office: str = ""
    governance: str = ""
    funders: str = ""
    partners: str = ""
    cofunding_statement: str = ""
    staff_fte: Decimal | None = None
    organigramme_evidence_id: int | None = None


@dataclass(frozen=True)
class SiteInput:
    site_id: int
    opened_on: date | None = None
    address: str = ""
    capacity: int | None = None
    staff_fte: Decimal | None = None


@dataclass(frozen=True)
class Presentation:
    """What the page and the dossier show: the profile (saved or empty) and the sites."""

    school: School
    profile: SchoolProfile
    sites: list[Site]

    @property
    def governance(self) -> list[str]:
        return SchoolProfile.lines(self.profile.governance)

    @property
    def funders(self) -> list[str]:
        return SchoolProfile.lines(self.profile.funders)

    @property
    def partners(self) -> list[str]:
        return SchoolProfile.lines(self.profile.partners)

    @property
    def total_capacity(self) -> int | None:
        known = [s.capacity for s in self.sites if s.capacity is not None]
        return sum(known) if known else None

    @property
    def total_staff(self) -> Decimal | None:
        """The coordination team's ETP plus every site's; None when nothing is entered."""
        known = [v for v in [self.profile.staff_fte, *(s.staff_fte for s in self.sites)]
                 if v is not None]
        return sum(known, Decimal(0)) if known else None

    @property
    def is_empty(self) -> bool:
        p = self.profile
        return not any([p.legal_name, p.legal_form, p.governance, p.funders, p.partners,
                        p.cofunding_statement, p.organigramme_evidence_id,
                        *(s.address or s.capacity for s in self.sites)])


def presentation(session: Session, school: School) -> Presentation:
    """The school's presentation; an unsaved empty profile when none was written (a page view
    writes nothing)."""
    profile = session.get(SchoolProfile, school.id) or SchoolProfile(
        school_id=school.id, legal_name="", legal_form="", head_office="", governance="",
        funders="", partners="", cofunding_statement="", lock_version=0)
    sites = sorted(school.sites, key=lambda s: (s.opened_on or date.max, s.name))
    return Presentation(school, profile, sites)


def organigramme_choices(session: Session, school: School) -> list[Evidence]:
    """The school's proofs that may hold its organigramme: every one not refused, by title."""
    return list(session.scalars(
        select(Evidence).where(Evidence.school_id == school.id,
                               Evidence.status != ReviewStatus.REFUSED)
        .order_by(Evidence.title)))


def save_profile(session: Session, school: School, author: User, data: ProfileInput,
                 sites: list[SiteInput], seen_lock_version: int | None = None) -> SchoolProfile:
    """Write the presentation and the sites' details; flushes, the caller commits.

    A stale form (someone saved meanwhile) is a :class:`Conflict`; a proof or a site of another
    school is refused."""
    profile = session.get(SchoolProfile, school.id)
    if profile is None:
        # Two first saves from forms opened on the empty profile: the second meets the
        # primary key of the first and gets the conflict from flush_or_conflict.
        profile = SchoolProfile(school_id=school.id)
        session.add(profile)
    else:
        check_fresh(profile, seen_lock_version)
    if data.organigramme_evidence_id is not None:
        proof = session.get(Evidence, data.organigramme_evidence_id)
        if proof is None or proof.school_id != school.id:
            raise SchoolProfileError(_("Cette preuve n’appartient pas à l’école."))
        if proof.status is ReviewStatus.REFUSED:
            raise SchoolProfileError(_("Une preuve refusée ne peut pas servir d’organigramme."))
    own = {s.id: s for s in school.sites}
    for entry in sites:
        if entry.site_id not in own:
            raise SchoolProfileError(_("Ce site n’est pas un site de l’école."))
    for field in ("legal_name", "legal_form", "head_office", "governance", "funders", "partners",
                  "cofunding_statement"):
        setattr(profile, field, (getattr(data, field) or "").strip())
    profile.staff_fte = data.staff_fte
    profile.organigramme_evidence_id = data.organigramme_evidence_id
    profile.updated_by = author
    for entry in sites:
        site = own[entry.site_id]
        site.opened_on = entry.opened_on
        site.address = entry.address.strip() or None
        site.capacity = entry.capacity
        site.staff_fte = entry.staff_fte
    flush_or_conflict(session)
    return profile
