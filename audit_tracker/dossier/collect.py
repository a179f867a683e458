"""What goes into a dossier: the pièces, numbered; their files fetched and checked; the annex plan.

Everything the layout needs is known here, before any page is laid out: each pièce's number, its
annex kind and how many pages its annex takes (a PDF's page count is read with pypdf from its page
tree, without loading any page's content). So the criterion tables can print the annex page
numbers right in one go.
"""

from __future__ import annotations

import enum
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from ..models import (
    Campaign,
    ClaimStatus,
    Criterion,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    EvidenceVersion,
    ReviewStatus,
)
from ..storage import Storage, StorageError
from ..storage.digest import digest_chunks

# Validated proofs and those awaiting validation go in; drafts and refused ones do not. A draft
# is still its author's work in progress, not something the school puts forward; a refused
# proof was judged not to demonstrate anything. A proof « à valider » was put forward by its
# author and its state is printed beside it, so the reader (and the director before sending)
# sees it is not validated yet; leaving it out would hide work the readiness summary counts.
INCLUDED_STATUSES = (ReviewStatus.VALIDATED, ReviewStatus.TO_REVIEW)
# The edition the school sends holds what it stands behind: validated proofs only.
SENT_STATUSES = (ReviewStatus.VALIDATED,)

IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
PDF_TYPE = "application/pdf"


class AnnexKind(enum.StrEnum):
    PDF = "pdf"  # its pages are merged after its separator page
    IMAGE = "image"  # placed on its separator page
    ARCHIVE = "archive"  # an office document, text, CSV: in the ZIP, listed
    LINK = "lien"
    PAPER = "papier"
    UNAVAILABLE = "indisponible"  # encrypted, unreadable, altered or missing: explained


class Integrity(enum.StrEnum):
    OK = "ok"
    ALTERED = "alteree"
    MISSING = "manquante"
    NO_FILE = "sans_fichier"  # a link, paper, or a document without any version


@dataclass
class Piece:
    """One proof of the dossier, under the number it keeps everywhere."""

    number: int
    evidence: Evidence
    version: EvidenceVersion | None
    criteria: list[Criterion] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)  # criterion id -> what it shows there
    local_path: Path | None = None
    computed_sha256: str | None = None
    integrity: Integrity = Integrity.NO_FILE
    annex: AnnexKind = AnnexKind.ARCHIVE
    annex_reason: str = ""
    pdf_pages: int = 0
    annex_offset: int = 0  # 0-based index of its separator page within the annex part

    @property
    def annex_pages(self) -> int:
        return 1 + self.pdf_pages

    @property
    def title(self) -> str:
        return self.evidence.title

    @property
    def short_hash(self) -> str:
        return self.version.sha256[:12] if self.version else ""


def select_links(session: Session, campaign: Campaign, criterion_ids: list[int],
                 site_ids: tuple[int, ...], include_personal_data: bool,
                 statuses: tuple[ReviewStatus, ...] = INCLUDED_STATUSES) -> list[EvidenceLink]:
    """The links from included proofs to the chosen criteria (any order)."""
    if not criterion_ids:
        return []
    statement = (
        select(EvidenceLink).join(Evidence, EvidenceLink.evidence_id == Evidence.id)
        .where(EvidenceLink.criterion_id.in_(criterion_ids),
               Evidence.school_id == campaign.school_id,
               Evidence.status.in_(statuses),
               EvidenceLink.status != ClaimStatus.REFUSED)  # a refused claim serves nothing
        .options(selectinload(EvidenceLink.evidence).selectinload(Evidence.versions),
                 selectinload(EvidenceLink.evidence).selectinload(Evidence.owner),
                 selectinload(EvidenceLink.evidence).selectinload(Evidence.site))
    )
    if site_ids:
        statement = statement.where(or_(Evidence.site_id.is_(None),
                                        Evidence.site_id.in_(site_ids)))
    if not include_personal_data:
        statement = statement.where(Evidence.personal_data.is_(False))
    return list(session.scalars(statement))


def excluded_personal_count(session: Session, campaign: Campaign, criterion_ids: list[int],
                            site_ids: tuple[int, ...],
                            statuses: tuple[ReviewStatus, ...] = INCLUDED_STATUSES) -> int:
    """How many proofs were left out because they hold personal data (said on the cover)."""
    if not criterion_ids:
        return 0
    statement = (
        select(Evidence.id).join(EvidenceLink, EvidenceLink.evidence_id == Evidence.id)
        .where(EvidenceLink.criterion_id.in_(criterion_ids),
               Evidence.school_id == campaign.school_id,
               Evidence.status.in_(statuses), Evidence.personal_data.is_(True),
               EvidenceLink.status != ClaimStatus.REFUSED)
        .distinct()
    )
    if site_ids:
        statement = statement.where(or_(Evidence.site_id.is_(None),
                                        Evidence.site_id.in_(site_ids)))
    return len(list(session.scalars(statement)))


def number_pieces(criteria: list[Criterion], links: list[EvidenceLink]
                  ) -> tuple[list[Piece], dict[int, list[Piece]]]:
    """Number the proofs in order of first appearance, criteria in référentiel order; returns the
    pièces in number order and each criterion's pièces."""
    by_criterion: dict[int, list[EvidenceLink]] = {}
    for link in links:
        by_criterion.setdefault(link.criterion_id, []).append(link)
    pieces: dict[int, Piece] = {}
    per_criterion: dict[int, list[Piece]] = {}
    for criterion in criteria:
        ordered = sorted(by_criterion.get(criterion.id, []),
                         key=lambda link: (link.evidence.title.casefold(), link.evidence.id))
        listed = []
        for link in ordered:
            evidence = link.evidence
            piece = pieces.get(evidence.id)
            if piece is None:
                piece = Piece(len(pieces) + 1, evidence, evidence.current_version)
                pieces[evidence.id] = piece
            piece.criteria.append(criterion)
            piece.notes[criterion.id] = link.note or ""
            listed.append(piece)
        per_criterion[criterion.id] = listed
    return list(pieces.values()), per_criterion


def governance_period(as_of: date, today: date) -> tuple[date, date]:
    """The meetings the dossier reports: held in the year before the reference date, and
    already held on the day it is built."""
    return as_of - timedelta(days=365), min(as_of, today)


def supporting_evidence(session: Session, campaign: Campaign, as_of: date,
                        today: date) -> list[Evidence]:
    """The proofs the front sections cite without a criterion: the organigramme, the minutes
    of the meetings held in the period, the closing proofs of the actions answering the
    certification audits' findings; in that order, each once."""
    from ..models import Finding, SchoolProfile

    found: list[Evidence] = []
    profile = session.get(SchoolProfile, campaign.school_id)
    if profile is not None and profile.organigramme is not None:
        found.append(profile.organigramme)
    start, end = governance_period(as_of, today)
    for meeting in sorted(campaign.meetings, key=lambda m: (m.held_on, m.id)):
        if start <= meeting.held_on <= end and meeting.minutes_evidence is not None:
            found.append(meeting.minutes_evidence)
    audits = [m.id for m in campaign.milestones if m.kind.is_certification_audit]
    if audits:
        for finding in session.scalars(select(Finding).where(
                Finding.milestone_id.in_(audits)).order_by(Finding.milestone_id,
                                                            Finding.number)):
            for action in finding.actions:
                if action.closing_evidence is not None:
                    found.append(action.closing_evidence)
    return list({e.id: e for e in found}.values())


def add_supporting(pieces: list[Piece], evidences: list[Evidence],
                   statuses: tuple[ReviewStatus, ...], site_ids: tuple[int, ...],
                   include_personal_data: bool) -> None:
    """Number the supporting proofs after the criteria's pièces, under the same rules (their
    review state, the chosen sites, personal data); a proof already numbered keeps its number."""
    known = {piece.evidence.id for piece in pieces}
    for evidence in evidences:
        if evidence.id in known or evidence.status not in statuses:
            continue
        if site_ids and evidence.site_id is not None and evidence.site_id not in site_ids:
            continue
        if evidence.personal_data and not include_personal_data:
            continue
        known.add(evidence.id)
        pieces.append(Piece(len(pieces) + 1, evidence, evidence.current_version))


def fetch(piece: Piece, storage: Storage, folder: Path) -> None:
    """Copy the proof's file from storage to ``folder`` while hashing it, and say whether it is
    the file that was recorded."""
    version = piece.version
    if piece.evidence.kind is not EvidenceKind.FILE or version is None:
        piece.integrity = Integrity.NO_FILE
        return
    suffix = Path(version.filename).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ""
    target = folder / f"piece-{piece.number:05d}{suffix}"
    try:
        with target.open("wb") as out:
            digest = digest_chunks(storage.open_chunks(version.storage_key), copy_to=out)
    except (StorageError, OSError):
        target.unlink(missing_ok=True)
        piece.integrity = Integrity.MISSING
        return
    piece.local_path = target
    piece.computed_sha256 = digest.sha256
    piece.integrity = (Integrity.OK if piece.computed_sha256 == version.sha256
                       else Integrity.ALTERED)


def classify(piece: Piece) -> None:
    """Decide how the pièce appears in the annexes and, for a PDF, count its pages."""
    evidence, version = piece.evidence, piece.version
    if evidence.kind is EvidenceKind.LINK:
        piece.annex = AnnexKind.LINK
        return
    if evidence.kind is EvidenceKind.PAPER:
        piece.annex = AnnexKind.PAPER
        return
    unavailable = {
        Integrity.NO_FILE: _("Aucun fichier n’a été déposé pour cette pièce."),
        Integrity.MISSING: _("Le fichier de cette pièce est introuvable dans le stockage : il "
                             "n’est ni reproduit ici ni fourni dans l’archive."),
        Integrity.ALTERED: _("Le fichier stocké n’a plus l’empreinte SHA-256 enregistrée au "
                             "dépôt : il n’est pas reproduit (voir le manifeste)."),
    }
    if piece.integrity in unavailable:
        piece.annex = AnnexKind.UNAVAILABLE
        piece.annex_reason = unavailable[piece.integrity]
        return
    if version.media_type == PDF_TYPE:
        flags = set(version.flags or ())
        if "chiffre" in flags:
            piece.annex, piece.annex_reason = AnnexKind.UNAVAILABLE, _(
                "Ce PDF est chiffré : il ne peut pas être reproduit dans ce dossier. Le fichier "
                "original est fourni dans l’archive.")
            return
        if "illisible" in flags:
            piece.annex, piece.annex_reason = AnnexKind.UNAVAILABLE, _(
                "Ce PDF est endommagé et ne peut pas être lu : il n’est pas reproduit dans ce "
                "dossier. Le fichier original est fourni dans l’archive.")
            return
        pages = pdf_page_count(piece.local_path)
        if not pages:
            piece.annex, piece.annex_reason = AnnexKind.UNAVAILABLE, _(
                "Ce PDF ne s’ouvre pas : il n’est pas reproduit dans ce dossier. Le fichier "
                "original est fourni dans l’archive.")
            return
        piece.annex, piece.pdf_pages = AnnexKind.PDF, pages
        return
    if version.media_type in IMAGE_TYPES:
        if image_size(piece.local_path) is None:
            piece.annex, piece.annex_reason = AnnexKind.UNAVAILABLE, _(
                "Cette image ne peut pas être lue : elle n’est pas reproduite dans ce dossier. "
                "Le fichier original est fourni dans l’archive.")
            return
        piece.annex = AnnexKind.IMAGE
        return
    piece.annex = AnnexKind.ARCHIVE


def pdf_page_count(path: Path | None) -> int:
    """Pages of a PDF from its page tree (no page content is read); 0 when it does not open,
    is encrypted with a password, or has no page."""
    if path is None:
        return 0
    from pypdf import PdfReader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with path.open("rb") as handle:
                reader = PdfReader(handle, strict=False)
                if reader.is_encrypted and not reader.decrypt(""):
                    return 0
                count = len(reader.pages)
                # The page dictionaries must be readable for the merge: touch each one.
                for page in reader.pages:
                    page.mediabox  # noqa: B018
                return count
    except Exception:  # untrusted file: anything pypdf raises means "cannot be merged"
        return 0


def image_size(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                image.verify()
                return image.size
    except Exception:  # truncated or hostile image: explained instead of placed
        return None


def plan_annexes(pieces: list[Piece]) -> int:
    """Give each pièce its separator page's offset in the annex part; returns the part's page
    count (separator pages plus merged pages)."""
    offset = 0
    for piece in pieces:
        piece.annex_offset = offset
        offset += piece.annex_pages
    return offset


def slug(text: str, limit: int = 50) -> str:
    """A file-system-safe ASCII slug: « Comité opérationnel » → « comite-operationnel »."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    value = re.sub(r"[^a-zA-Z0-9]+", "-", ascii_text).strip("-").lower()
    return value[:limit].rstrip("-") or "sans-titre"
