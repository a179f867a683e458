"""Sending files: a proof's version or a dossier's output streamed from storage, a calendar.

One function writes the headers, so the pages and the API cannot drift apart: the size, the
user's file name (accents kept), no sniffing, a policy that keeps a stored file from running
anything in our origin, and the hash as ETag (a stored object never changes, so a browser that
has it gets a 304).
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response, abort, current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from ..dossier import builds
from ..extensions import db
from ..journal import service as journal
from ..models import BuildStatus, DossierBuild, EvidenceVersion, ProgressNote
from ..storage import DOSSIERS, EVIDENCE, NOTES, Storage, StorageError, storage_for


def send_stored(storage: Storage, key: str, *, filename: str, media_type: str,
                size: int | None, etag: str | None, missing: str,
                inline: bool = False) -> Response:
    """Stream the object ``key`` as ``filename``; 404 with ``missing`` (French) when the storage
    has lost it, said before the 200 starts rather than as a download cut short."""
    try:
        present = storage.exists(key)
    except StorageError:
        present = False
    if not present:
        current_app.logger.error("Stored object missing: %s", key)
        abort(404, missing)
    response = Response(storage.open_chunks(key), mimetype=media_type, direct_passthrough=True)
    if size is not None:
        response.headers["Content-Length"] = str(size)
    response.headers.set("Content-Disposition", "inline" if inline else "attachment",
                         **filename_parameters(filename))
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A stored file never runs anything in our origin. Images are sandboxed outright; Chromium's
    # PDF viewer refuses to start in a sandboxed document, so a PDF gets everything else.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; frame-ancestors 'self'"
        if media_type == "application/pdf"
        else "default-src 'none'; img-src 'self'; frame-ancestors 'self'; sandbox"
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    if etag:
        response.set_etag(etag)
    response.make_conditional(request)  # a 304 for a browser that has it already
    return response


def send_version(version: EvidenceVersion, *, inline: bool = False) -> Response:
    """A proof's version, once the caller has checked that the user may have it."""
    _journal_download("evidence_version", version.id, version.filename, version.sha256)
    return send_stored(
        storage_for(current_app, EVIDENCE), version.storage_key, filename=version.filename,
        media_type=version.media_type, size=version.size, etag=version.sha256, inline=inline,
        missing=_("Le fichier de cette version est introuvable dans le stockage ; "
                  "l’administrateur peut lancer « flask evidence verify »."))


def send_build_output(build: DossierBuild, which: str) -> Response:
    """A finished dossier's PDF or ZIP, with the limits of the proofs it carries."""
    refusal = builds.download_refusal(current_user, build)
    if refusal:
        abort(403, refusal)
    if build.status is not BuildStatus.DONE:
        abort(404, _("Ce dossier n’est pas (ou pas encore) disponible."))
    key, size, digest = (
        (build.pdf_key, build.size, build.sha256)
        if which == builds.PDF
        else (build.zip_key, build.zip_size, build.zip_sha256)
    )
    if not key:
        abort(404, _("Cette construction n’a pas produit d’archive ZIP."))
    _journal_download("dossier_build", build.id, builds.output_filename(build, which), digest)
    return send_stored(
        storage_for(current_app, DOSSIERS), key, filename=builds.output_filename(build, which),
        media_type="application/pdf" if which == builds.PDF else "application/zip",
        size=size, etag=digest,
        missing=_("Le fichier de ce dossier est introuvable dans le stockage."))


def _journal_download(table_name: str, record_id: int, filename: str,
                      sha256: str | None) -> None:
    """Every file handed out is journaled, committed before the first byte leaves: the one
    write a GET makes, since reading a file is what the journal must show."""
    journal.record_event(db.session, journal.DOWNLOAD, table_name=table_name,
                         record_id=record_id, detail={"file": filename, "sha256": sha256 or ""})
    db.session.commit()


def send_calendar(body: bytes, filename: str) -> Response:
    """An iCalendar feed, for a calendar client to subscribe to (never indexed, never stale)."""
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def filename_parameters(filename: str) -> dict[str, str]:
    """The user's file name for Content-Disposition: plain when ASCII, otherwise an ASCII
    fallback plus the exact name in RFC 5987 form (accents, œ, ’ survive the download)."""
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
        return {"filename": fallback or "preuve", "filename*": f"UTF-8''{quote(filename)}"}
    return {"filename": filename}


def send_note_file(note: ProgressNote, which: str) -> Response:
    """An issued note's PDF or DOCX (a draft has no file: the page is its preview)."""
    from ..notes.issuing import MEDIA_TYPES, filename

    key = getattr(note, f"{which}_key", None)
    if not note.is_issued or not key:
        abort(404, _("Cette note n’est pas encore émise : elle n’a pas de fichier."))
    return send_stored(
        storage_for(current_app, NOTES), key, filename=filename(note, which),
        media_type=MEDIA_TYPES[which], size=getattr(note, f"{which}_size"),
        etag=getattr(note, f"{which}_sha256"),
        missing=_("Le fichier de cette note est introuvable dans le stockage."))
