"""Evidence services: receive and store files, versions, metadata, review, links, validity.

The other mutating functions flush, so a stale edit surfaces here as ``Conflict`` instead of in
each view, and leave the commit to their caller. Functions that store a file are the one
exception: they own their transaction, because the object and its row must go together. The
object is written first, the rows are committed, and if the commit fails the object is deleted
again, so there is never a row without its file nor a file without its row (an interrupted
process can leave an orphan object at most, which ``verify`` reports).
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, or_, select, text, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..accounts.permissions import Permission, has_permission
from ..clock import utcnow
from ..database import fold
from ..domain.errors import (
    DomainError,
    StorageFull,
    check_fresh,
    commit_or_conflict,
    flush_or_conflict,
)
from ..i18n import megabytes
from ..models import (
    Campaign,
    ClaimStatus,
    Criterion,
    CriterionMapping,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    EvidenceReview,
    EvidenceVersion,
    Milestone,
    MilestoneKind,
    ReviewStatus,
    Role,
    School,
    Site,
    User,
    campaign_framework,
)
from ..models.evidence import SEARCH_TABLE
from ..storage import CHUNK, Storage, StorageError, new_key
from ..storage.digest import digest_chunks
from ..storage.spool import SpooledPart
from .filetypes import Inspection, RefusedFile, check_filename, inspect_file

# A full disk, or the user's quota on it.
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class EvidenceError(DomainError):
    """A user-facing reason why an evidence operation was refused (French message)."""


class DuplicateFile(EvidenceError):
    """The same bytes (SHA-256) are already in the school's library: nothing is duplicated
    silently; the caller offers to link the existing proof or to make it a new version."""

    def __init__(self, message: str, existing: Evidence) -> None:
        super().__init__(message)
        self.existing = existing


class FourEyes(EvidenceError):
    """The school reviews with four eyes: nobody decides on what they submitted."""


# ------------------------------------------------------------------------------------ receiving


@dataclass
class ReceivedFile:
    """An upload spooled to a local temporary file, hashed and inspected, not yet stored."""

    path: Path
    filename: str
    size: int
    sha256: str
    inspection: Inspection

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def receive_file(stream: BinaryIO, filename: str, tmp_dir: Path, max_size: int) -> ReceivedFile:
    """Copy ``stream`` to a temporary file in chunks while hashing it, then inspect its type.

    Never holds the file in memory; refuses it (and removes the copy) when too large, empty,
    badly named or of a type that is not accepted.
    """
    name = check_filename(filename)
    if isinstance(stream, SpooledPart):
        return _received_in_place(stream, name, max_size)
    fd, raw_path = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    path = Path(raw_path)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = digest_chunks(_at_most(stream, max_size, name), copy_to=out)
        inspection = inspect_file(path, name)
    except OSError as error:
        path.unlink(missing_ok=True)
        if error.errno in _DISK_FULL:
            raise StorageFull() from error
        raise
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ReceivedFile(path, name, digest.size, digest.sha256, inspection)


def _received_in_place(part: SpooledPart, name: str, max_size: int) -> ReceivedFile:
    """A part the request already streamed into the spool folder and hashed: no second copy."""
    digest = part.digest
    try:
        if digest.size > max_size:
            raise RefusedFile(_("« %(name)s » dépasse la taille maximale de %(limit)s Mo.",
                                name=name, limit=megabytes(max_size)))
        part.flush()
        inspection = inspect_file(part.path, name)
    except BaseException:
        part.discard()
        raise
    return ReceivedFile(part.path, name, digest.size, digest.sha256, inspection)


def _at_most(stream: BinaryIO, max_size: int, name: str) -> Iterator[bytes]:
    """The stream's chunks, refused as soon as they add up to more than ``max_size``."""
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_size:
            raise RefusedFile(
                _(
                    "« %(name)s » dépasse la taille maximale de %(limit)s Mo.",
                    name=name,
                    limit=megabytes(max_size),
                )
            )
        yield chunk


# ------------------------------------------------------------------------------- the metadata


@dataclass
class EvidenceFields:
    """What a user fills in about a proof, whatever its kind."""

    title: str
    kind: EvidenceKind = EvidenceKind.FILE
    description: str = ""
    site: Site | None = None
    url: str | None = None
    paper_location: str | None = None
    paper_custodian: str | None = None
    covers_from: date | None = None
    covers_to: date | None = None
    valid_until: date | None = None
    personal_data: bool = False
    retention_until: date | None = None


def check_url(url: str | None) -> str:
    """An http(s) link with a host; ``javascript:``, ``data:`` and the like are refused."""
    value = (url or "").strip()
    parts = urlsplit(value)
    if (
        parts.scheme.lower() not in {"http", "https"}
        or not parts.netloc
        or len(value) > 2000
        or re.search(r"[\x00-\x20\x7f]", value)
    ):
        raise EvidenceError(
            _("Lien refusé : indiquez une adresse web complète commençant par http:// ou https://.")
        )
    return value


def _checked(fields: EvidenceFields, school: School, author: User) -> EvidenceFields:
    fields.title = (fields.title or "").strip()
    if not fields.title:
        raise EvidenceError(_("Donnez un titre à la preuve."))
    if len(fields.title) > 300:
        raise EvidenceError(_("Le titre ne doit pas dépasser 300 caractères."))
    if fields.site is not None and fields.site.school_id != school.id:
        raise EvidenceError(_("Ce site n’appartient pas à votre école."))
    if author.role is Role.SITE_MANAGER:
        # A site manager files proofs for their own site only.
        if fields.site is not None and fields.site.id != author.site_id:
            raise EvidenceError(_("Vous ne pouvez déposer des preuves que pour votre site."))
        fields.site = author.site
    if fields.kind is EvidenceKind.LINK:
        fields.url = check_url(fields.url)
    else:
        fields.url = None
    if fields.kind is EvidenceKind.PAPER:
        fields.paper_location = (fields.paper_location or "").strip()
        fields.paper_custodian = (fields.paper_custodian or "").strip() or None
        if not fields.paper_location:
            raise EvidenceError(_("Indiquez où la preuve papier peut être consultée."))
        if len(fields.paper_location) > 300 or len(fields.paper_custodian or "") > 200:
            raise EvidenceError(_("Le lieu (300 caractères) ou la personne qui détient la "
                                  "preuve (200 caractères) est trop long."))
    else:
        fields.paper_location = fields.paper_custodian = None
    if fields.covers_from and fields.covers_to and fields.covers_to < fields.covers_from:
        raise EvidenceError(_("La période couverte se termine avant de commencer."))
    if fields.personal_data and not fields.retention_until:
        raise EvidenceError(
            _(
                "Une preuve contenant des données personnelles de stagiaires doit "
                "avoir une date de fin de conservation."
            )
        )
    return fields


def _apply(evidence: Evidence, fields: EvidenceFields) -> None:
    for name in (
        "title",
        "description",
        "site",
        "url",
        "paper_location",
        "paper_custodian",
        "covers_from",
        "covers_to",
        "valid_until",
        "personal_data",
        "retention_until",
    ):
        setattr(evidence, name, getattr(fields, name))
    if not evidence.personal_data:
        evidence.retention_until = None


# ------------------------------------------------------------------------- create and version


def create_evidence(
    session: Session,
    storage: Storage,
    *,
    school: School,
    author: User,
    fields: EvidenceFields,
    upload: ReceivedFile | None = None,
    criterion: Criterion | None = None,
    note: str = "",
    submit: bool = False,
    refuse_duplicate: bool = False,
) -> Evidence:
    """A new proof: a document is committed with its first version's stored file, a link or a
    paper proof is only flushed (the caller commits).

    A document given no title takes its file's name without the extension. With ``criterion``
    the proof is linked to it in the same step, with ``note``; with ``submit`` it is sent for
    validation at once (the criterion page's one-step add). With ``refuse_duplicate`` (the
    upload pages), a file whose bytes are already in the school's library is refused with
    ``DuplicateFile``, naming the existing proof."""
    if upload is not None and not (fields.title or "").strip():
        fields.title = upload.filename.rsplit(".", 1)[0]
    fields = _checked(fields, school, author)
    if (fields.kind is EvidenceKind.FILE) != (upload is not None):
        raise EvidenceError(
            _("Un document a besoin d’un fichier ; un lien ou une preuve papier n’en a pas.")
        )
    if upload is not None and refuse_duplicate:
        existing = find_duplicate(session, school, upload.sha256)
        if existing is not None:
            upload.discard()  # nothing is kept of a refused duplicate
            raise DuplicateFile(
                _(
                    "Ce fichier est déjà dans la bibliothèque : « %(title)s ». "
                    "Liez la preuve existante, ou faites-en une nouvelle version.",
                    title=existing.title,
                ),
                existing,
            )
    note = _checked_note(note)
    evidence = Evidence(school=school, owner=author, kind=fields.kind, status=ReviewStatus.DRAFT)
    _apply(evidence, fields)
    if criterion is not None:
        evidence.links.append(EvidenceLink(criterion=criterion, note=note, created_by=author))
    if submit:
        evidence.status = ReviewStatus.TO_REVIEW
        evidence.reviews.append(
            EvidenceReview(status=ReviewStatus.TO_REVIEW, reason="", reviewer=author,
                           version_number=1 if upload is not None else None)
        )
    session.add(evidence)
    if upload is None:
        _flush_with_index(session, evidence)
        return evidence
    _store_and_commit(session, storage, evidence, upload, author, number=1)
    return evidence


def find_duplicate(session: Session, school: School, sha256: str) -> Evidence | None:
    """The school's proof one of whose versions holds exactly these bytes, if any."""
    return session.scalar(
        select(Evidence)
        .join(EvidenceVersion, EvidenceVersion.evidence_id == Evidence.id)
        .where(Evidence.school_id == school.id, EvidenceVersion.sha256 == sha256)
        .order_by(Evidence.id)
        .limit(1)
    )


def add_version(
    session: Session, storage: Storage, evidence: Evidence, upload: ReceivedFile, author: User
) -> EvidenceVersion:
    """A new immutable version; the proof goes back to « à valider »."""
    if evidence.kind is not EvidenceKind.FILE:
        raise EvidenceError(_("Seul un document peut recevoir une nouvelle version."))
    number = (evidence.current_version.number if evidence.current_version else 0) + 1
    evidence.status = ReviewStatus.TO_REVIEW
    evidence.reviews.append(
        EvidenceReview(
            status=ReviewStatus.TO_REVIEW,
            version_number=number,
            reason=_("Nouvelle version déposée"),
            reviewer=author,
        )
    )
    return _store_and_commit(session, storage, evidence, upload, author, number)


def _store_and_commit(
    session: Session,
    storage: Storage,
    evidence: Evidence,
    upload: ReceivedFile,
    author: User,
    number: int,
) -> EvidenceVersion:
    key = new_key()
    try:
        storage.put(key, upload.path)
    except StorageError as error:
        session.rollback()
        cause = error.__cause__
        if isinstance(cause, OSError) and cause.errno in _DISK_FULL:
            raise StorageFull() from error
        raise EvidenceError(
            _(
                "Le fichier n’a pas pu être enregistré (stockage indisponible ou "
                "plein) ; rien n’a été modifié."
            )
        ) from error
    finally:
        upload.discard()
    version = EvidenceVersion(
        number=number,
        storage_key=key,
        filename=upload.filename,
        media_type=upload.inspection.media_type,
        size=upload.size,
        sha256=upload.sha256,
        flags=sorted(upload.inspection.flags),
        extracted_text=upload.inspection.text,
        uploaded_by=author,
    )
    evidence.versions.append(version)
    try:
        _flush_with_index(session, evidence)
        commit_or_conflict(session, _stale())
    except BaseException:
        storage.delete(key)  # the row did not make it: neither does the file
        raise
    return version


def _flush_with_index(session: Session, evidence: Evidence) -> None:
    # Set before the flush, so the row is written once and its version moves by one.
    evidence.search_text = search_text_of(evidence)
    flush_or_conflict(session, _stale())
    mirror_search_index(session, evidence)


def _stale() -> str:
    return _(
        "Cette preuve a été modifiée par quelqu’un d’autre pendant que vous travailliez ; "
        "rechargez la page : vos changements n’ont pas été enregistrés."
    )


def update_fields(
    session: Session,
    evidence: Evidence,
    fields: EvidenceFields,
    author: User,
    seen_lock_version: int,
) -> None:
    """Save edited metadata, unless someone else saved the proof since ``seen_lock_version``."""
    check_fresh(
        evidence,
        seen_lock_version,
        _(
            "Cette preuve a été modifiée par quelqu’un d’autre depuis que vous avez "
            "ouvert le formulaire ; rechargez la page pour voir sa version actuelle. "
            "Vos changements n’ont pas été enregistrés."
        ),
    )
    fields.kind = evidence.kind
    _apply(evidence, _checked(fields, evidence.school, author))
    _flush_with_index(session, evidence)


# ------------------------------------------------------------------------------------- review


def submit_for_review(session: Session, evidence: Evidence, author: User) -> None:
    if evidence.status not in {ReviewStatus.DRAFT, ReviewStatus.REFUSED}:
        raise EvidenceError(
            _("Cette preuve est déjà « %(status)s ».", status=evidence.status.label)
        )
    evidence.status = ReviewStatus.TO_REVIEW
    evidence.reviews.append(_trail(evidence, ReviewStatus.TO_REVIEW, "", author))
    _flush_with_index(session, evidence)


def review(
    session: Session, evidence: Evidence, reviewer: User, decision: ReviewStatus, reason: str = ""
) -> None:
    """Validate or refuse a proof; a refusal needs its reason, kept in the trail."""
    if not has_permission(reviewer, Permission.REVIEW_EVIDENCE):
        raise EvidenceError(_("Seuls la direction et le responsable qualité valident les preuves."))
    if decision not in {ReviewStatus.VALIDATED, ReviewStatus.REFUSED}:
        raise EvidenceError(_("Décision inconnue : choisissez de valider ou de refuser la preuve."))
    reason = (reason or "").strip()
    if decision is ReviewStatus.REFUSED and not reason:
        raise EvidenceError(_("Indiquez pourquoi la preuve est refusée."))
    if evidence.status is decision:
        raise EvidenceError(_("Cette preuve est déjà « %(status)s ».", status=decision.label))
    if evidence.school.four_eyes and submitter_of(evidence) == reviewer.id:
        raise FourEyes(
            _(
                "Principe des quatre yeux : vous avez soumis cette preuve, une autre personne "
                "(direction ou responsable qualité) doit la valider ou la refuser."
            )
        )
    if evidence.school.four_eyes and evidence.owner_id == reviewer.id:
        # Validating one's own draft straight away would skip the submission and the check.
        raise FourEyes(
            _(
                "Principe des quatre yeux : vous avez créé cette preuve, une autre personne "
                "(direction ou responsable qualité) doit la valider ou la refuser."
            )
        )
    _decide(session, evidence, reviewer, decision, reason)


def validate_on_issue(session: Session, evidence: Evidence, issuer: User, reason: str) -> None:
    """A document the product wrote from recorded data and a director issued (a progress note)
    is validated by that act: its issuer is the only author, so four-eyes has nobody to separate."""
    if not has_permission(issuer, Permission.REVIEW_EVIDENCE):
        raise EvidenceError(_("Seuls la direction et le responsable qualité valident les preuves."))
    _decide(session, evidence, issuer, ReviewStatus.VALIDATED, reason)


def _decide(session: Session, evidence: Evidence, reviewer: User, decision: ReviewStatus,
            reason: str) -> None:
    evidence.status = decision
    evidence.reviews.append(_trail(evidence, decision, reason, reviewer))
    if decision is ReviewStatus.VALIDATED:
        # Validating the proof is judging it for every criterion it is claimed for.
        for link in evidence.links:
            if link.status is ClaimStatus.TO_CONFIRM:
                link.status = ClaimStatus.CONFIRMED
                link.confirmed_by = reviewer
                link.confirmed_at = utcnow()
    _flush_with_index(session, evidence)


def submitter_of(evidence: Evidence) -> int | None:
    """Who sent the proof to validation last (a submission, or a new version), if anyone."""
    for entry in reversed(evidence.reviews):
        if entry.status is ReviewStatus.TO_REVIEW:
            return entry.reviewer_id
    return None


def decide_claim(
    session: Session, link: EvidenceLink, reviewer: User, confirm: bool, reason: str = ""
) -> None:
    """Confirm that a validated proof demonstrates this criterion too, or refuse the claim
    with a reason (the link stays, refused, so the trail says who said no and why)."""
    if not has_permission(reviewer, Permission.REVIEW_EVIDENCE):
        raise EvidenceError(_("Seuls la direction et le responsable qualité confirment un lien."))
    if link.status is not ClaimStatus.TO_CONFIRM:
        raise EvidenceError(_("Ce lien est déjà « %(status)s ».", status=link.status.label))
    reason = (reason or "").strip()
    if not confirm and not reason:
        raise EvidenceError(_("Indiquez pourquoi ce lien est refusé."))
    if len(reason) > 2000:
        raise EvidenceError(_("Le motif ne doit pas dépasser 2000 caractères."))
    if link.evidence.school.four_eyes and link.created_by_id == reviewer.id:
        raise FourEyes(
            _(
                "Principe des quatre yeux : vous avez proposé ce lien, une autre personne "
                "(direction ou responsable qualité) doit le confirmer ou le refuser."
            )
        )
    link.status = ClaimStatus.CONFIRMED if confirm else ClaimStatus.REFUSED
    link.refusal_reason = "" if confirm else reason
    link.confirmed_by = reviewer
    link.confirmed_at = utcnow()
    session.flush()


def _trail(evidence: Evidence, status: ReviewStatus, reason: str, user: User) -> EvidenceReview:
    current = evidence.current_version
    return EvidenceReview(
        status=status,
        reason=reason,
        reviewer=user,
        version_number=current.number if current else None,
    )


# -------------------------------------------------------------------------------------- links


def link_criterion(
    session: Session, evidence: Evidence, criterion: Criterion, note: str, author: User
) -> EvidenceLink:
    """Say that this proof demonstrates ``criterion``, and what it shows there.

    The link is a claim: on a proof already validated, nobody has judged it for this criterion
    yet, so it is « à confirmer » until the direction or the quality lead confirms it. On a
    proof not yet validated, the proof's own review judges it."""
    note = _checked_note(note)
    if any(link.criterion_id == criterion.id for link in evidence.links):
        raise EvidenceError(_("Cette preuve est déjà liée à ce critère."))
    status = (
        ClaimStatus.TO_CONFIRM
        if evidence.status is ReviewStatus.VALIDATED
        else ClaimStatus.CONFIRMED
    )
    link = EvidenceLink(criterion=criterion, note=note, created_by=author, status=status)
    evidence.links.append(link)
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise EvidenceError(_("Cette preuve est déjà liée à ce critère.")) from error
    return link


def _checked_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > 500:
        raise EvidenceError(_("La note ne doit pas dépasser 500 caractères."))
    return note


def unlink_criterion(session: Session, evidence: Evidence, link_id: int) -> None:
    link = next((link for link in evidence.links if link.id == link_id), None)
    if link is None:
        raise EvidenceError(_("Ce lien avec un critère n’existe plus."))
    evidence.links.remove(link)
    session.flush()


def suggested_criteria(session: Session, evidence: Evidence) -> list[tuple[Criterion, str]]:
    """Criteria mapped to the ones this proof already serves, in frameworks it does not serve
    yet: once a proof has an E2C criterion and a Qualiopi indicator, it stops suggesting."""
    linked = {link.criterion_id for link in evidence.links}
    if not linked:
        return []
    served = {link.criterion.framework_id for link in evidence.links}
    rows = session.execute(
        select(CriterionMapping)
        .where(
            or_(
                CriterionMapping.from_criterion_id.in_(linked),
                CriterionMapping.to_criterion_id.in_(linked),
            )
        )
        .options(
            selectinload(CriterionMapping.from_criterion).selectinload(Criterion.framework),
            selectinload(CriterionMapping.to_criterion).selectinload(Criterion.framework),
        )
    ).scalars()
    suggestions: dict[int, tuple[Criterion, str]] = {}
    for mapping in rows:
        for other in (mapping.from_criterion, mapping.to_criterion):
            if other.id not in linked and other.framework_id not in served:
                suggestions.setdefault(other.id, (other, mapping.note))
    return sorted(suggestions.values(), key=lambda pair: (pair[0].framework.code, pair[0].position))


# ---------------------------------------------------------------------------------- who may see


def visible_to(user: User) -> ColumnElement[bool]:
    """The proofs ``user`` may see: their school's; for a site manager, their site's and the
    whole school's, not the other sites'."""
    clause = Evidence.school_id == user.school_id
    if user.role is Role.SITE_MANAGER:
        clause = and_(clause, or_(Evidence.site_id.is_(None), Evidence.site_id == user.site_id))
    if user.is_invited_auditor:
        clause = and_(clause, sent_to_auditor(user.access_campaign_id))
    return clause


def sent_to_auditor(campaign_id: int | None) -> ColumnElement[bool]:
    """What the school sends of a campaign: validated proofs, with a confirmed claim on a
    criterion of one of its frameworks; never a draft, one awaiting review or refused."""
    frameworks = select(campaign_framework.c.framework_id).where(
        campaign_framework.c.campaign_id == campaign_id)
    return and_(
        Evidence.status == ReviewStatus.VALIDATED,
        Evidence.links.any(and_(
            EvidenceLink.status == ClaimStatus.CONFIRMED,
            EvidenceLink.criterion.has(Criterion.framework_id.in_(frameworks)))),
    )


def can_edit(user: User, evidence: Evidence) -> bool:
    if not has_permission(user, Permission.EDIT_EVIDENCE) or evidence.school_id != user.school_id:
        return False
    return user.role is not Role.SITE_MANAGER or evidence.site_id == user.site_id


def can_download(user: User, evidence: Evidence) -> bool:
    """Files with learners' personal data are for the people who need them, not every reader."""
    if not evidence.personal_data:
        return True
    if user.role in {Role.DIRECTOR, Role.QUALITY_LEAD} or evidence.owner_id == user.id:
        return True
    return user.role is Role.SITE_MANAGER and evidence.site_id == user.site_id


def hidden_site_of(session: Session, user: User, evidence_id: int) -> Site | None:
    """The other site of a proof of the user's own school that their site's view hides, if
    that is why they cannot open it (so the page explains instead of « page inexistante »)."""
    if not user.site_id:
        return None
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or evidence.school_id != user.school_id:
        return None
    if evidence.site_id is None or evidence.site_id == user.site_id:
        return None
    return evidence.site


def get_visible(session: Session, user: User, evidence_id: int) -> Evidence | None:
    return session.scalar(
        select(Evidence)
        .where(Evidence.id == evidence_id, visible_to(user))
        .options(
            selectinload(Evidence.versions).selectinload(EvidenceVersion.uploaded_by),
            selectinload(Evidence.links)
            .selectinload(EvidenceLink.criterion)
            .selectinload(Criterion.framework),
            selectinload(Evidence.reviews).selectinload(EvidenceReview.reviewer),
            selectinload(Evidence.site),
            selectinload(Evidence.owner),
        )
    )


# ------------------------------------------------------------------------------------ validity


def is_valid_on(evidence: Evidence, day: date) -> bool:
    """Valid on ``day`` when it has no end of validity or it ends on that day or later."""
    return evidence.valid_until is None or evidence.valid_until >= day


@dataclass(frozen=True)
class ValidityWarning:
    code: str  # "expiree" or the kind of the milestone it will have expired by
    message: str


_DEADLINE_KINDS = (
    MilestoneKind.INITIAL_AUDIT,
    MilestoneKind.SURVEILLANCE_AUDIT,
    MilestoneKind.NATIONAL_COMMISSION,
)


def validity_warnings(
    evidence: Evidence, today: date, milestones: Iterable[Milestone]
) -> list[ValidityWarning]:
    """Expired today, or still valid today but no longer at a coming audit or commission."""
    if evidence.valid_until is None:
        return []
    until = evidence.valid_until.strftime("%d/%m/%Y")
    if not is_valid_on(evidence, today):
        return [ValidityWarning("expiree", _("Valable jusqu’au %(date)s : expirée.", date=until))]
    warnings = []
    for milestone in milestones:
        if (
            milestone.kind in _DEADLINE_KINDS
            and milestone.starts_on >= today
            and not is_valid_on(evidence, milestone.starts_on)
        ):
            warnings.append(
                ValidityWarning(
                    milestone.kind.value,
                    _(
                        "Valable jusqu’au %(date)s seulement : plus valable à "
                        "« %(event)s » (%(day)s).",
                        date=until,
                        event=milestone.title,
                        day=milestone.starts_on.strftime("%d/%m/%Y"),
                    ),
                )
            )
    return warnings


# -------------------------------------------------------------------------------------- search


def _words(value: str | None) -> str:
    """A file name or an address as separate words. PostgreSQL's parser keeps
    "compte-rendu_mars.pdf" or a whole URL as one token (a "host", a "url"), so none of their
    words could be searched there; SQLite's tokenizer splits them, and now both engines agree."""
    return " ".join(re.findall(r"[^\W_]+", value or ""))


def search_text_of(evidence: Evidence) -> str:
    """What search sees of a proof: its words, its file's name and text, its address."""
    current = evidence.current_version
    parts = [
        evidence.title,
        evidence.description,
        _words(evidence.url),
        evidence.paper_location or "",
        _words(current.filename) if current else "",
        current.extracted_text if current else "",
    ]
    return "\n".join(p for p in parts if p)


def mirror_search_index(session: Session, evidence: Evidence) -> None:
    """On SQLite, copy the proof's search text into the FTS5 table (PostgreSQL indexes the
    column itself)."""
    if session.get_bind().dialect.name == "sqlite":
        # The table name is our constant; only the values are the user's, and they are bound.
        session.execute(
            text(f"DELETE FROM {SEARCH_TABLE} WHERE rowid = :id"),  # noqa: S608
            {"id": evidence.id},
        )
        session.execute(
            text(f"INSERT INTO {SEARCH_TABLE} (rowid, body) VALUES (:id, :body)"),  # noqa: S608
            {"id": evidence.id, "body": evidence.search_text},
        )


def downloadable_by(user: User) -> ColumnElement[bool]:
    """``can_download`` as SQL: the proofs whose file ``user`` may have."""
    if user.role in {Role.DIRECTOR, Role.QUALITY_LEAD}:
        return true()
    allowed = or_(Evidence.personal_data.is_(False), Evidence.owner_id == user.id)
    if user.role is Role.SITE_MANAGER and user.site_id is not None:
        allowed = or_(allowed, Evidence.site_id == user.site_id)
    return allowed


def _match(session: Session, query: str, user: User) -> ColumnElement[bool] | None:
    """The proofs the words find. The text of a file flagged as holding learners' personal data
    finds it only for those who may download it (``can_download``): for anyone else such a proof
    is found by what its page shows them (title, description, address, place), never by what
    its file says."""
    words = re.findall(r"\w+", query)
    if not words:
        return None
    found = _full_text_match(session, words)
    if user.role in {Role.DIRECTOR, Role.QUALITY_LEAD}:
        return found
    return and_(found, or_(downloadable_by(user), _metadata_match(session, words)))


def _metadata_match(session: Session, words: list[str]) -> ColumnElement[bool]:
    shown = (Evidence.title + " " + Evidence.description + " "
             + func.coalesce(Evidence.url, "") + " " + func.coalesce(Evidence.paper_location, ""))
    if session.get_bind().dialect.name == "sqlite":
        # fold() is registered on every SQLite connection (database.enable_sqlite_foreign_keys).
        folded = func.fold(shown)
        return and_(*(folded.contains(fold(word), autoescape=True) for word in words))
    return func.to_tsvector("french", shown).op("@@")(
        func.plainto_tsquery("french", " ".join(words))
    )


def _full_text_match(session: Session, words: list[str]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "sqlite":
        # Each word quoted (no FTS syntax from the user), all required, prefixes allowed.
        fts_query = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
        matching = (
            select(text("rowid"))
            .select_from(text(SEARCH_TABLE))
            .where(text(f"{SEARCH_TABLE} MATCH :fts"))
            .params(fts=fts_query)
        )
        return Evidence.id.in_(matching)
    return func.to_tsvector("french", Evidence.search_text).op("@@")(
        func.plainto_tsquery("french", " ".join(words))
    )


@dataclass
class SearchFilters:
    query: str = ""
    site_id: int | None = None  # 0 = whole school only
    status: ReviewStatus | None = None
    criterion_id: int | None = None
    expiring_before: date | None = None
    kinds: list[EvidenceKind] = field(default_factory=list)


def search(
    session: Session, user: User, filters: SearchFilters, limit: int = 200
) -> list[Evidence]:
    """The proofs visible to ``user`` that match every filter, most recently changed first."""
    statement = select(Evidence).where(visible_to(user))
    match = _match(session, filters.query, user)
    if match is not None:
        statement = statement.where(match)
    if filters.site_id == 0:
        statement = statement.where(Evidence.site_id.is_(None))
    elif filters.site_id:
        statement = statement.where(Evidence.site_id == filters.site_id)
    if filters.status:
        statement = statement.where(Evidence.status == filters.status)
    if filters.criterion_id:
        statement = statement.where(
            Evidence.links.any(EvidenceLink.criterion_id == filters.criterion_id)
        )
    if filters.expiring_before:
        statement = statement.where(Evidence.valid_until < filters.expiring_before)
    if filters.kinds:
        statement = statement.where(Evidence.kind.in_(filters.kinds))
    statement = (
        statement.options(
            selectinload(Evidence.versions),
            selectinload(Evidence.site),
            selectinload(Evidence.links),
            selectinload(Evidence.owner),
        )
        .order_by(Evidence.updated_at.desc(), Evidence.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def school_criterion(session: Session, school_id: int, criterion_id: int) -> Criterion | None:
    """A criterion of a framework one of the school's campaigns follows, or None."""
    in_campaigns = (
        select(campaign_framework.c.framework_id)
        .join(Campaign, Campaign.id == campaign_framework.c.campaign_id)
        .where(Campaign.school_id == school_id)
    )
    return session.scalar(
        select(Criterion).where(Criterion.id == criterion_id,
                                Criterion.framework_id.in_(in_campaigns))
    )


def picker_search(session: Session, user: User, query: str, limit: int = 8) -> list[Evidence]:
    """Proofs to pick for a criterion: by title or file text (the search index), and those
    already linked to a criterion whose code is the query (« A3 », « 30 »)."""
    found = search(session, user, SearchFilters(query=query), limit=limit)
    code = query.strip()
    if code and len(code) <= 20 and " " not in code:
        by_code = session.scalars(
            select(Evidence)
            .where(visible_to(user),
                   Evidence.links.any(EvidenceLink.criterion.has(
                       func.lower(Criterion.code) == code.lower())))
            .options(selectinload(Evidence.links).selectinload(EvidenceLink.criterion))
            .order_by(Evidence.updated_at.desc(), Evidence.id.desc())
            .limit(limit)
        )
        seen = {e.id for e in found}
        found += [e for e in by_code if e.id not in seen]
    return found[:limit]


def evidence_for_criterion(session: Session, user: User, criterion_id: int) -> list[Evidence]:
    """The proofs of the user's school linked to one criterion (for the criterion page)."""
    return search(session, user, SearchFilters(criterion_id=criterion_id))


# ------------------------------------------------------------------------------------- verify


@dataclass
class VerifyReport:
    checked: int = 0
    missing: list[EvidenceVersion] = field(default_factory=list)
    altered: list[EvidenceVersion] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.altered or self.orphans)


def verify(session: Session, storage: Storage) -> VerifyReport:
    """Re-hash every stored version; report missing or altered files and objects with no row."""
    report = VerifyReport()
    known: set[str] = set()
    versions = session.scalars(
        select(EvidenceVersion)
        .options(selectinload(EvidenceVersion.evidence))
        .order_by(EvidenceVersion.id)
    )
    for version in versions:
        known.add(version.storage_key)
        report.checked += 1
        try:
            digest = digest_chunks(storage.open_chunks(version.storage_key))
        except StorageError:
            report.missing.append(version)
            continue
        if digest.sha256 != version.sha256 or digest.size != version.size:
            report.altered.append(version)
    report.orphans = sorted(key for key in storage.keys() if key not in known)  # noqa: SIM118
    return report
