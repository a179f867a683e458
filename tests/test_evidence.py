"""Evidence library pages (/preuves): refused and flagged uploads, storage that never keeps half of
a proof, immutable versions, review, criterion links, validity against the campaign, concurrent
edits, who sees what, search, ``flask evidence verify`` and a list page free of N+1 queries.

Every test runs on SQLite and, with ``AUDIT_TRACKER_TEST_POSTGRES_URL``, on PostgreSQL; the ones
about storing also run against a real S3-compatible server (moto, see ``s3_app``).
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import ClientDisconnected

from audit_tracker.campaigns.service import school_milestones
from audit_tracker.clock import local_today
from audit_tracker.domain.errors import Conflict
from audit_tracker.evidence import service
from audit_tracker.evidence.filetypes import RefusedFile
from audit_tracker.extensions import db
from audit_tracker.models import (
    Criterion,
    CriterionMapping,
    Evidence,
    EvidenceKind,
    EvidenceVersion,
    MilestoneKind,
    ReviewStatus,
    Role,
    Site,
    User,
)
from audit_tracker.models.evidence import SEARCH_TABLE
from audit_tracker.referentiel.importer import latest_framework
from audit_tracker.storage import EVIDENCE, StorageError, storage_for, upload_tmp_dir
from audit_tracker.storage.s3 import S3Storage
from audit_tracker.templating import human_size

from .conftest import UPLOADS, AuthActions
from .factories import SchoolFactory

MiB = 1024 * 1024
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FETCH = {"X-Requested-With": "fetch"}

STORAGE_FAILED = (
    "Le fichier n’a pas pu être enregistré (stockage indisponible ou plein) ; rien n’a été modifié."
)
INTERNAL_ERROR = "Une erreur interne est survenue ; elle a été enregistrée."
EDIT_CONFLICT = (
    "Cette preuve a été modifiée par quelqu’un d’autre depuis que vous avez ouvert le formulaire"
)


# ------------------------------------------------------------------------------------ helpers


def demo_user(accounts, local_part: str) -> User:
    """The User row of a demo account (the fixtures hand out e-mails and passwords)."""
    email = accounts[f"{local_part}@e2c-var.example"].email
    return db.session.scalar(select(User).where(User.email == email))


def demo_site(code: str) -> Site:
    return db.session.scalar(select(Site).where(Site.code == code))


def criterion(framework_code: str, code: str) -> Criterion:
    framework = latest_framework(db.session, framework_code)
    return db.session.scalar(
        select(Criterion).where(Criterion.framework_id == framework.id, Criterion.code == code)
    )


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def alerts(response) -> list[str]:
    """The flashed messages shown on a page."""
    return [
        html.unescape(m).strip()
        for m in re.findall(r'role="alert">(.*?)</div>', response.get_data(as_text=True), re.S)
    ]


def section(response, testid: str) -> str:
    """The inner HTML of the element marked ``data-testid=testid`` (up to its closing tag)."""
    body = page(response)
    match = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', body, re.S)
    assert match, f"no data-testid={testid!r} on the page"
    return match.group(2)


def input_value(response, name: str) -> str:
    """The value of the form's <input name=name>."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page(response))
    assert tag, f"no input {name!r} on the page"
    return re.search(r'\bvalue="([^"]*)"', tag.group(0)).group(1)


def trail(response) -> list[str]:
    """The review trail of a detail page, newest first, as plain text lines."""
    block = re.search(r'<ol class="small list-unstyled">(.*?)</ol>', page(response), re.S)
    assert block, "no review trail on the page"
    items = re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)
    return [" ".join(item.split()) for item in items]


def listed(response) -> set[int]:
    """Ids of the proofs in the list page's table."""
    assert response.status_code == 200
    table = section(response, "evidence-list")
    return {int(i) for i in re.findall(r'href="/preuves/(\d+)"', table)}


def created_id(response) -> int:
    assert response.status_code == 302, page(response)
    return int(re.fullmatch(r"/preuves/(\d+)", response.location).group(1))


def post_upload(client, name: str, content: bytes, *, fetch: bool = False, **fields):
    """POST the upload page's form with one file, as the browser (or its script) does."""
    data = {"kind": "fichier", "site_id": "0", "file": (io.BytesIO(content), name), **fields}
    return client.post("/preuves/nouvelle", data=data, headers=FETCH if fetch else {})


def post_version(client, evidence_id: int, name: str, content: bytes):
    return client.post(f"/preuves/{evidence_id}/versions",
                       data={"file": (io.BytesIO(content), name)})


def refusal(response, fetch: bool) -> str:
    """The French error of a refused upload: JSON for the script, a flashed alert otherwise."""
    if fetch:
        assert response.status_code == 400
        assert response.is_json
        return response.get_json()["error"]
    assert response.status_code == 200  # the form again, with the reason above it
    return " ".join(alerts(response))


def evidence_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Evidence))


def assert_nothing_kept(app) -> None:
    """No proof, no version, no search entry, no stored object and no spooled upload left."""
    assert evidence_count() == 0
    assert db.session.scalar(select(func.count()).select_from(EvidenceVersion)) == 0
    if db.engine.dialect.name == "sqlite":
        assert db.session.scalar(text(f"SELECT count(*) FROM {SEARCH_TABLE}")) == 0  # noqa: S608
    assert list(storage_for(app, EVIDENCE).keys()) == []
    assert list(upload_tmp_dir(app).iterdir()) == []


def store_proof(app, author: User, fixture: str = "preuve.pdf", **fields) -> Evidence:
    """A document stored through the service in whatever backend ``app`` is set up with."""
    upload = service.receive_file(io.BytesIO((UPLOADS / fixture).read_bytes()), fixture,
                                  upload_tmp_dir(app), app.config["MAX_CONTENT_LENGTH"])
    fields.setdefault("title", fixture)
    return service.create_evidence(db.session, storage_for(app, EVIDENCE), school=author.school,
                                   author=author, fields=service.EvidenceFields(**fields),
                                   upload=upload)


def reloaded(evidence_id: int) -> Evidence:
    """The proof as the database has it now (other requests changed it in their own session)."""
    db.session.expire_all()
    return db.session.get(Evidence, evidence_id)


@pytest.fixture(autouse=True)
def own_instance_folder(tmp_path, monkeypatch):
    """Stored objects and spooled uploads in this test's folder, not the project's instance/.

    ``app`` passes ``INSTANCE_PATH`` as a setting, which create_app does not read: the instance
    folder comes from ``AUDIT_TRACKER_INSTANCE_PATH``. Autouse, so it is set before ``app``.
    """
    monkeypatch.setenv("AUDIT_TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def quality(client, auth, make_user) -> User:
    """A quality lead of a school without sites nor campaign, logged in (cheaper than the demo)."""
    user = make_user(Role.QUALITY_LEAD, full_name="Claire Qualité")
    auth.login(user)
    return user


@pytest.fixture
def demo_quality(client, auth, demo) -> User:
    """The demo's quality lead (E2C Var, its sites and campaign), logged in."""
    auth.login_demo(demo, "qualite")
    return demo_user(demo, "qualite")


@pytest.fixture(params=["local", "s3"])
def backend(request, app):
    """The application's evidence storage: the local disk, or a bucket on the moto S3 server."""
    if request.param == "s3":
        request.getfixturevalue("s3_app")
        assert isinstance(storage_for(app, EVIDENCE), S3Storage)
    return storage_for(app, EVIDENCE)


def test_tests_store_and_spool_in_their_own_folder(app, tmp_path):
    """The guard above works: nothing of these tests lands in the project's instance/."""
    assert storage_for(app, EVIDENCE).root.is_relative_to(tmp_path)
    assert upload_tmp_dir(app).is_relative_to(tmp_path)


# ----------------------------------------------------------------------- refused and flagged

REFUSED_FIXTURES = {
    "programme.pdf": "« programme.pdf » : ce fichier est un programme exécutable, il est refusé.",
    "elf.pdf": "« elf.pdf » : ce fichier est un programme exécutable, il est refusé.",
    "script.svg": "« script.svg » : les images SVG ne sont pas acceptées",
    "page.html": "« page.html » : les pages HTML ne sont pas acceptées",
    "archive.zip": "« archive.zip » : les archives ZIP ne sont pas acceptées",
    "bombe.docx": "« bombe.docx » : archive suspecte (taille décompressée excessive)",
    "vide.pdf": "« vide.pdf » : le fichier est vide.",
}

BAD_NAMES = {
    "path": ("../../instance/preuve.pdf", "ne doit pas contenir de chemin (/, \\ ou ..)"),
    "nul-byte": ("preuve\x00.pdf.exe", "contient des caractères invisibles ou de contrôle"),
    "300-chars": ("c" * 296 + ".pdf", "dépasse 255 caractères ; raccourcissez-le."),
}

WITH_AND_WITHOUT_SCRIPT = pytest.mark.parametrize("fetch", [False, True], ids=["page", "fetch"])


@WITH_AND_WITHOUT_SCRIPT
@pytest.mark.parametrize("fixture", list(REFUSED_FIXTURES))
def test_upload_refuses_dangerous_or_empty_file_in_french_and_keeps_nothing(
        app, client, quality, fixture, fetch):
    """Executables named .pdf, SVG, HTML, zip, zip bomb and empty file: refused, nothing kept."""
    response = post_upload(client, fixture, (UPLOADS / fixture).read_bytes(), fetch=fetch)
    assert REFUSED_FIXTURES[fixture] in refusal(response, fetch)
    assert_nothing_kept(app)


@WITH_AND_WITHOUT_SCRIPT
@pytest.mark.parametrize("name, reason", list(BAD_NAMES.values()), ids=list(BAD_NAMES))
def test_upload_refuses_bad_file_name_in_french_and_keeps_nothing(
        app, client, quality, name, reason, fetch):
    """A name with a path, a NUL byte or 300 characters is refused even for a good PDF."""
    response = post_upload(client, name, (UPLOADS / "preuve.pdf").read_bytes(), fetch=fetch)
    message = refusal(response, fetch)
    assert reason in message
    assert "\x00" not in message and "c" * 100 not in message  # never echoed whole
    assert_nothing_kept(app)


@WITH_AND_WITHOUT_SCRIPT
@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)",
                                 "data:text/html,<script>alert(1)</script>",
                                 "https://exemple.fr/\x00x", "exemple.fr/sans-schema"])
def test_link_refuses_non_web_url_in_french_and_keeps_nothing(app, client, quality, url, fetch):
    """A link proof needs an http(s) address: javascript:, data: and the like are refused."""
    response = client.post("/preuves/nouvelle", data={
        "kind": "lien", "site_id": "0", "title": "Lien piégé", "url": url,
    }, headers=FETCH if fetch else {})
    assert ("Lien refusé : indiquez une adresse web complète commençant par http:// ou "
            "https://.") in refusal(response, fetch)
    assert_nothing_kept(app)


@WITH_AND_WITHOUT_SCRIPT
def test_upload_over_the_request_limit_gets_the_french_413(app, client, quality, fetch):
    """A request over MAX_CONTENT_LENGTH is stopped before reading: 413 in French, nothing kept."""
    app.config["MAX_CONTENT_LENGTH"] = MiB
    content = (UPLOADS / "preuve.pdf").read_bytes() + b"\n%" + b"0" * MiB
    response = post_upload(client, "gros.pdf", content, fetch=fetch)
    assert response.status_code == 413
    message = "Le fichier envoyé dépasse la taille maximale de 1 Mo."
    if fetch:  # the upload script shows body.error, else only "HTTP 413"
        assert response.get_json() == {"error": message}
    else:
        assert message in page(response)
    assert_nothing_kept(app)


def test_receive_file_refuses_a_file_over_the_per_file_limit_and_removes_its_copy(app):
    """The service's own limit: one byte over is refused in French; exactly at it is accepted."""
    tmp_dir = upload_tmp_dir(app)
    with pytest.raises(RefusedFile, match="« gros.txt » dépasse la taille maximale de 2 Mo."):
        service.receive_file(io.BytesIO(b"a" * (2 * MiB + 1)), "gros.txt", tmp_dir, 2 * MiB)
    assert list(tmp_dir.iterdir()) == []

    received = service.receive_file(io.BytesIO(b"a" * (2 * MiB)), "juste.txt", tmp_dir, 2 * MiB)
    assert (received.size, received.inspection.media_type) == (2 * MiB, "text/plain")
    assert received.sha256 == hashlib.sha256(b"a" * (2 * MiB)).hexdigest()
    received.discard()
    assert list(tmp_dir.iterdir()) == []


def test_receive_file_removes_its_copy_when_the_client_disconnects(app):
    """An upload cut off mid-stream leaves no spooled file behind."""

    class CutOff(io.RawIOBase):
        def __init__(self):
            self.sent = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            if self.sent:
                raise ClientDisconnected()
            self.sent = len(buffer)
            buffer[:] = b"%" * len(buffer)
            return len(buffer)

    with pytest.raises(ClientDisconnected):
        service.receive_file(io.BufferedReader(CutOff()), "coupe.pdf", upload_tmp_dir(app), MiB)
    assert list(upload_tmp_dir(app).iterdir()) == []


@pytest.mark.parametrize("fixture, flag, badge", [
    ("chiffre.pdf", "chiffre", "PDF chiffré"),
    ("tronque.pdf", "illisible", "PDF illisible"),
])
def test_encrypted_or_damaged_pdf_is_accepted_flagged_and_not_previewed(
        app, client, quality, fixture, flag, badge):
    """Accepted with its flag, shown as a badge; downloadable but never previewed inline."""
    content = (UPLOADS / fixture).read_bytes()
    evidence_id = created_id(post_upload(client, fixture, content))
    version = reloaded(evidence_id).current_version
    assert (version.media_type, version.flags) == (PDF, [flag])

    detail = client.get(f"/preuves/{evidence_id}")
    assert badge in section(detail, "versions")
    assert "/apercu" not in page(detail)
    assert client.get(f"/preuves/{evidence_id}/versions/1/apercu").status_code == 404
    download = client.get(f"/preuves/{evidence_id}/versions/1/fichier")
    assert (download.status_code, download.data) == (200, content)
    assert list(upload_tmp_dir(app).iterdir()) == []


def test_clean_pdf_is_previewed_inline_without_badge(client, quality):
    """The counterpart: a readable PDF has no flag and an inline preview."""
    evidence_id = created_id(post_upload(client, "preuve.pdf",
                                         (UPLOADS / "preuve.pdf").read_bytes()))
    detail = client.get(f"/preuves/{evidence_id}")
    assert "PDF chiffré" not in page(detail) and "PDF illisible" not in page(detail)
    preview = client.get(f"/preuves/{evidence_id}/versions/1/apercu")
    assert preview.status_code == 200
    assert preview.headers["Content-Disposition"].startswith("inline")


def test_new_version_of_a_link_is_refused_without_leaving_the_upload(app, client, quality,
                                                                     make_evidence):
    """Posting a file to a link proof's versions: French refusal and no spooled file left."""
    link = make_evidence(quality, kind=EvidenceKind.LINK, url="https://exemple.fr/charte",
                         title="Charte")
    response = post_version(client, link.id, "preuve.pdf", (UPLOADS / "preuve.pdf").read_bytes())
    assert response.status_code == 302
    assert "Seul un document peut recevoir une nouvelle version." in alerts(
        client.get(response.location))
    assert list(upload_tmp_dir(app).iterdir()) == []
    assert list(storage_for(app, EVIDENCE).keys()) == []


# ------------------------------------------------------------ storing: all of it or nothing


def fail_put(monkeypatch, storage) -> None:
    """The backend refuses to store, as a full disk or an unreachable bucket does."""

    def put(key, source):
        raise StorageError("[Errno 28] No space left on device")

    monkeypatch.setattr(storage, "put", put)


def fail_commit(monkeypatch, storage) -> list[str]:
    """Storing works but the database commit fails; returns the keys that were stored."""
    stored = []
    real_put = storage.put

    def put(key, source):
        real_put(key, source)
        stored.append(key)

    def commit():
        raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(storage, "put", put)
    monkeypatch.setattr(db.session, "commit", commit)
    return stored


@WITH_AND_WITHOUT_SCRIPT
def test_upload_when_storage_fails_keeps_no_row_and_no_temp_file(
        app, client, quality, backend, monkeypatch, fetch):
    """Disk full or bucket down: French error, no proof, nothing stored, spooled copy removed."""
    fail_put(monkeypatch, backend)
    response = post_upload(client, "preuve.pdf", (UPLOADS / "preuve.pdf").read_bytes(),
                           fetch=fetch)
    assert STORAGE_FAILED in refusal(response, fetch)
    monkeypatch.undo()
    assert_nothing_kept(app)


def test_upload_whose_commit_fails_deletes_the_stored_object(
        app, client, quality, backend, monkeypatch):
    """The object was stored, then the commit failed: no proof, and the object deleted again."""
    stored = fail_commit(monkeypatch, backend)
    response = post_upload(client, "preuve.pdf", (UPLOADS / "preuve.pdf").read_bytes())
    monkeypatch.undo()
    assert response.status_code == 500
    assert INTERNAL_ERROR in page(response)
    assert len(stored) == 1 and not backend.exists(stored[0])
    assert_nothing_kept(app)


def test_upload_whose_flush_breaks_a_constraint_deletes_the_stored_object(
        app, client, quality, backend, monkeypatch):
    """The database itself refuses the row (CHECK covers_in_order): French error, no object."""
    stored = []
    real_put, real_checked = backend.put, service._checked

    def put(key, source):
        real_put(key, source)
        stored.append(key)

    def checked(fields, school, author):
        fields = real_checked(fields, school, author)
        fields.covers_from, fields.covers_to = local_today(), local_today() - timedelta(days=1)
        return fields

    monkeypatch.setattr(backend, "put", put)
    monkeypatch.setattr(service, "_checked", checked)
    response = post_upload(client, "preuve.pdf", (UPLOADS / "preuve.pdf").read_bytes())
    monkeypatch.undo()
    assert "n’ont pas été enregistrés" in refusal(response, fetch=False)
    assert len(stored) == 1 and not backend.exists(stored[0])
    assert_nothing_kept(app)


@pytest.mark.parametrize("failure", ["storage", "commit"])
def test_new_version_that_fails_to_store_leaves_v1_alone(
        app, client, quality, backend, monkeypatch, failure):
    """A failed second version: still only v1 (same object, same status), no extra object."""
    v1 = (UPLOADS / "preuve.pdf").read_bytes()
    evidence_id = created_id(post_upload(client, "preuve.pdf", v1))
    keys_before = sorted(backend.keys())
    stored = []
    if failure == "storage":
        fail_put(monkeypatch, backend)
    else:
        stored = fail_commit(monkeypatch, backend)

    response = post_version(client, evidence_id, "compte-rendu.docx",
                            (UPLOADS / "compte-rendu.docx").read_bytes())
    monkeypatch.undo()
    if failure == "storage":
        assert response.status_code == 302
        assert STORAGE_FAILED in alerts(client.get(response.location))
    else:
        assert response.status_code == 500
        assert len(stored) == 1 and not backend.exists(stored[0])
    evidence = reloaded(evidence_id)
    assert [v.number for v in evidence.versions] == [1]
    assert evidence.status is ReviewStatus.DRAFT
    assert [r.reason for r in evidence.reviews] == []
    assert sorted(backend.keys()) == keys_before
    assert client.get(f"/preuves/{evidence_id}/versions/1/fichier").data == v1
    assert list(upload_tmp_dir(app).iterdir()) == []


def test_upload_through_s3_stores_the_exact_bytes(app, client, quality, s3_app):
    """On S3 too, what the page stored downloads back byte for byte under its opaque key."""
    content = (UPLOADS / "tableau.xlsx").read_bytes()
    evidence_id = created_id(post_upload(client, "tableau de bord.xlsx", content))
    version = reloaded(evidence_id).current_version
    assert list(storage_for(app, EVIDENCE).keys()) == [version.storage_key]
    assert "tableau" not in version.storage_key
    assert client.get(f"/preuves/{evidence_id}/versions/1/fichier").data == content
    assert list(upload_tmp_dir(app).iterdir()) == []


# ---------------------------------------------------------------------------------- versions


def test_new_version_is_v2_and_v1_stays_downloadable_with_its_exact_bytes(client, quality):
    """v2 is added beside v1; both download byte for byte; the proof goes back to « À valider »."""
    v1 = (UPLOADS / "preuve.pdf").read_bytes()
    v2 = (UPLOADS / "compte-rendu.docx").read_bytes()
    evidence_id = created_id(post_upload(client, "Compte rendu COPIL.pdf", v1))
    client.post(f"/preuves/{evidence_id}/revue", data={"decision": "validee"})
    assert reloaded(evidence_id).status is ReviewStatus.VALIDATED

    response = post_version(client, evidence_id, "Compte rendu COPIL.docx", v2)
    assert response.status_code == 302
    assert "Version 2 déposée ; la preuve est à valider de nouveau." in alerts(
        client.get(response.location))

    evidence = reloaded(evidence_id)
    assert [(v.number, v.filename, v.media_type) for v in evidence.versions] == [
        (1, "Compte rendu COPIL.pdf", PDF), (2, "Compte rendu COPIL.docx", DOCX)]
    assert evidence.status is ReviewStatus.TO_REVIEW
    for number, content in ((1, v1), (2, v2)):
        download = client.get(f"/preuves/{evidence_id}/versions/{number}/fichier")
        assert download.status_code == 200
        assert download.data == content
        assert download.headers["ETag"] == f'"{hashlib.sha256(content).hexdigest()}"'
        assert download.headers["Content-Disposition"].startswith("attachment")

    detail = client.get(f"/preuves/{evidence_id}")
    versions = section(detail, "versions")
    uploader = quality.full_name
    for version, content in zip(evidence.versions, (v1, v2), strict=True):
        assert version.sha256 == hashlib.sha256(content).hexdigest()
        assert version.size == len(content)
        assert version.sha256 in versions
        assert human_size(len(content)) in versions
        assert version.media_type in versions
    assert versions.count(uploader) == 2
    assert section(detail, "status").strip() == "À valider"
    assert "Nouvelle version déposée" in trail(detail)[0]


# ------------------------------------------------------------------------------------ review


def test_review_goes_from_draft_to_review_to_refused_with_reason_then_validated(
        app, client, auth, demo):
    """brouillon → à valider → refusée (reason required) → à valider → validée, all in the trail."""
    auth.login_demo(demo, "tpm")
    evidence_id = created_id(post_upload(client, "emargement.csv",
                                         (UPLOADS / "emargement.csv").read_bytes(),
                                         site_id=str(demo_site("tpm").id)))
    assert reloaded(evidence_id).status is ReviewStatus.DRAFT
    assert client.post(f"/preuves/{evidence_id}/soumettre").status_code == 302
    assert reloaded(evidence_id).status is ReviewStatus.TO_REVIEW

    auth.logout()
    auth.login_demo(demo, "qualite")
    response = client.post(f"/preuves/{evidence_id}/revue",
                           data={"decision": "refusee", "reason": "   "})
    assert "Indiquez pourquoi la preuve est refusée." in alerts(client.get(response.location))
    assert reloaded(evidence_id).status is ReviewStatus.TO_REVIEW
    client.post(f"/preuves/{evidence_id}/revue",
                data={"decision": "refusee", "reason": "Signature du formateur manquante"})
    assert reloaded(evidence_id).status is ReviewStatus.REFUSED
    assert "Refusée : Signature du formateur manquante" in page(
        client.get(f"/preuves/{evidence_id}"))

    auth.logout()
    auth.login_demo(demo, "tpm")
    client.post(f"/preuves/{evidence_id}/soumettre")
    auth.logout()
    auth.login_demo(demo, "direction")
    client.post(f"/preuves/{evidence_id}/revue", data={"decision": "validee", "reason": ""})
    assert reloaded(evidence_id).status is ReviewStatus.VALIDATED

    lines = trail(client.get(f"/preuves/{evidence_id}"))
    tpm, quality, direction = (demo_user(demo, p).full_name
                               for p in ("tpm", "qualite", "direction"))
    today = local_today().strftime("%d/%m/%Y")
    assert len(lines) == 4
    assert all(line.startswith(today) for line in lines)
    expected = [  # newest first: status (version), who, why
        f"Validée (v1) · {direction}",
        f"À valider (v1) · {tpm}",
        f"Refusée (v1) · {quality} — Signature du formateur manquante",
        f"À valider (v1) · {tpm}",
    ]
    assert [line.split(" · ", 1)[1] for line in lines] == expected


@pytest.mark.parametrize("local_part", ["tpm", "auditeur", "admin"])
def test_only_quality_and_direction_may_review(app, client, auth, demo, make_evidence,
                                               local_part):
    """A site manager, the auditor and the platform admin get 403 and the status stays."""
    proof = make_evidence(demo_user(demo, "qualite"))
    service.submit_for_review(db.session, proof, demo_user(demo, "qualite"))
    db.session.commit()
    auth.login_demo(demo, local_part)
    response = client.post(f"/preuves/{proof.id}/revue", data={"decision": "validee"})
    assert response.status_code == 403
    assert reloaded(proof.id).status is ReviewStatus.TO_REVIEW


# ------------------------------------------------------------------------------------- links


def test_link_to_e2c_criterion_suggests_its_qualiopi_indicators_and_lists_the_proof(
        client, demo_quality, make_evidence):
    """Linked to E2C A2, the proof suggests the mapped Qualiopi indicators; a suggestion links in
    one click; both criterion pages list the proof; linking twice is refused in French."""
    proof = make_evidence(demo_quality, title="Compte rendu du comité opérationnel local")
    a2 = criterion("e2c-label", "A2")
    mapped = set(db.session.scalars(
        select(CriterionMapping.to_criterion_id).where(CriterionMapping.from_criterion_id == a2.id)
    ))
    assert {db.session.get(Criterion, i).code for i in mapped} == {"28", "30"}  # shipped mapping

    response = client.post(f"/preuves/{proof.id}/criteres",
                           data={"criterion_id": a2.id, "note": "Réunion trimestrielle"})
    assert response.status_code == 302
    detail = client.get(f"/preuves/{proof.id}")
    suggestions = section(detail, "suggestions")
    suggested = {int(i) for i in re.findall(r'name="criterion_id" value="(\d+)"', suggestions)}
    assert suggested == mapped
    for criterion_id in mapped:
        code = db.session.get(Criterion, criterion_id).code
        assert f"Lier aussi à l’indicateur {code} ?" in html.unescape(suggestions)

    q28 = criterion("qualiopi-v9", "28")
    note = re.search(rf'value="{q28.id}">\s*<input type="hidden" name="note" value="([^"]*)"',
                     suggestions).group(1)
    client.post(f"/preuves/{proof.id}/criteres", data={"criterion_id": q28.id, "note": note})
    linked = {link.criterion_id for link in reloaded(proof.id).links}
    assert linked == {a2.id, q28.id}
    assert q28.label in section(client.get(f"/preuves/{proof.id}"), "links")

    for criterion_id in (a2.id, q28.id):
        proofs = section(client.get(f"/referentiels/criteres/{criterion_id}"), "criterion-proofs")
        assert f'href="/preuves/{proof.id}"' in proofs
        assert "Compte rendu du comité opérationnel local" in proofs
    assert "Réunion trimestrielle" in section(client.get(f"/referentiels/criteres/{a2.id}"),
                                              "criterion-proofs")

    again = client.post(f"/preuves/{proof.id}/criteres", data={"criterion_id": a2.id})
    assert "Cette preuve est déjà liée à ce critère." in alerts(client.get(again.location))
    assert len(reloaded(proof.id).links) == 2


# ---------------------------------------------------------------------------------- validity


def test_validity_is_judged_against_the_coming_audit_and_commission(
        client, auth, demo_today, make_evidence):
    """Audit in 55 days, commission in 78: each proof is flagged with the events it won't reach,
    and the list's « before the commission » filter returns exactly those expiring before it."""
    auth.login_demo(demo_today, "qualite")
    author = demo_user(demo_today, "qualite")
    today = local_today()
    milestones = school_milestones(db.session, author.school_id, today)
    audit = next(m for m in milestones if m.kind is MilestoneKind.INITIAL_AUDIT)
    commission = next(m for m in milestones if m.kind is MilestoneKind.NATIONAL_COMMISSION)
    assert ((audit.starts_on - today).days, (commission.starts_on - today).days) == (55, 78)

    def proof(title, valid_until):
        return make_evidence(author, kind=EvidenceKind.LINK, url="https://exemple.fr/doc",
                             title=title, valid_until=valid_until).id

    before_audit = proof("Assurance", audit.starts_on - timedelta(days=1))
    between = proof("Convention", audit.starts_on + timedelta(days=1))
    audit_day = proof("Agrément", audit.starts_on)
    expired = proof("Attestation", today - timedelta(days=1))
    commission_day = proof("Habilitation", commission.starts_on)
    forever = proof("Statuts", None)

    def codes(evidence_id):
        return [w.code for w in service.validity_warnings(reloaded(evidence_id), today,
                                                          milestones)]

    assert "audit_initial" in codes(before_audit)
    assert codes(between) == codes(audit_day) == ["commission_nationale"]
    assert service.is_valid_on(reloaded(audit_day), audit.starts_on)
    assert codes(expired) == ["expiree"]
    assert codes(commission_day) == codes(forever) == []

    audit_warning = " ".join(
        re.findall(r'data-testid="validity-warning">(.*?)</div>',
                   page(client.get(f"/preuves/{before_audit}"))))
    assert "Audit de labellisation AFNOR Certification" in audit_warning
    between_warning = " ".join(
        re.findall(r'data-testid="validity-warning">(.*?)</div>',
                   page(client.get(f"/preuves/{between}"))))
    assert "Commission Nationale de Labellisation" in between_warning
    assert "Audit de labellisation" not in between_warning
    expired_page = page(client.get(f"/preuves/{expired}"))
    assert f"Valable jusqu’au {(today - timedelta(days=1)):%d/%m/%Y} : expirée." in expired_page
    assert 'data-testid="validity-warning"' not in page(client.get(f"/preuves/{commission_day}"))

    assert listed(client.get("/preuves/?expiring=commission")) == {
        before_audit, between, audit_day, expired}
    assert listed(client.get("/preuves/?expiring=expirees")) == {expired}
    assert listed(client.get("/preuves/")) == {
        before_audit, between, audit_day, expired, commission_day, forever}


# ----------------------------------------------------------------------------- concurrent edit


def test_second_editor_of_the_same_version_gets_409_and_keeps_what_they_typed(
        app, client, auth, make_user, make_evidence):
    """Two forms opened at the same lock_version: the first save wins, the second gets 409 with
    the conflict message and its typed values, and the database keeps the first edit."""
    quality, direction = make_user(Role.QUALITY_LEAD), make_user(Role.DIRECTOR)
    proof = make_evidence(quality, title="Plan d’actions qualité")
    other = app.test_client()
    auth.login(quality)
    AuthActions(other).login(direction)

    seen = [input_value(browser.get(f"/preuves/{proof.id}/modifier"), "lock_version")
            for browser in (client, other)]
    assert seen == [str(proof.lock_version)] * 2

    first = client.post(f"/preuves/{proof.id}/modifier", data={
        "title": "Plan d’actions qualité 2018", "description": "Version de la qualité",
        "site_id": "0", "lock_version": seen[0]})
    assert first.status_code == 302
    second = other.post(f"/preuves/{proof.id}/modifier", data={
        "title": "Plan d’actions (direction)", "description": "Texte saisi par la direction",
        "site_id": "0", "lock_version": seen[1]})

    assert second.status_code == 409
    assert any(EDIT_CONFLICT in message for message in alerts(second))
    body = page(second)
    assert 'value="Plan d’actions (direction)"' in body
    assert "Texte saisi par la direction</textarea>" in body
    assert "Plan d’actions qualité 2018" in section(second, "conflict")
    evidence = reloaded(proof.id)
    assert (evidence.title, evidence.description) == (
        "Plan d’actions qualité 2018", "Version de la qualité")
    assert evidence.lock_version > int(seen[0])


def test_update_fields_from_a_stale_lock_version_raises_conflict(make_user, make_evidence):
    """The service refuses a stale form, and the proof is left as it was."""
    author = make_user(Role.QUALITY_LEAD)
    proof = make_evidence(author, title="Original")
    opened = proof.lock_version
    service.update_fields(db.session, proof, service.EvidenceFields(title="Premier"), author,
                          opened)
    with pytest.raises(Conflict, match="modifiée par quelqu’un d’autre"):
        service.update_fields(db.session, proof, service.EvidenceFields(title="Second"),
                              author, opened)
    assert reloaded(proof.id).title == "Premier"


# ------------------------------------------------------------------------------- who sees what


@pytest.fixture
def school_proofs(demo, make_evidence):
    """A whole-school proof, one per site for TPM and CAVEM, and one with personal data."""
    author = demo_user(demo, "qualite")
    return {
        "school": make_evidence(author, title="Règlement intérieur").id,
        "tpm": make_evidence(author, title="Planning TPM", site=demo_site("tpm")).id,
        "cavem": make_evidence(author, title="Planning CAVEM", site=demo_site("cavem")).id,
        "personal": make_evidence(author, fixture="emargement.csv", title="Émargements",
                                  personal_data=True,
                                  retention_until=local_today() + timedelta(days=365)).id,
    }


def test_site_manager_sees_whole_school_and_own_site_proofs_only(client, auth, demo,
                                                                 school_proofs):
    """TPM lists the school's and TPM's proofs; opening CAVEM's is refused with the reason
    (another site's proof), not « page inexistante », and without its title."""
    auth.login_demo(demo, "tpm")
    assert listed(client.get("/preuves/")) == {
        school_proofs["school"], school_proofs["tpm"], school_proofs["personal"]}
    for path in ("", "/modifier", "/versions/1/fichier", "/versions/1/apercu"):
        response = client.get(f"/preuves/{school_proofs['cavem']}{path}")
        assert response.status_code == 403
        body = response.get_data(as_text=True)
        assert "appartient au site" in body and "Planning CAVEM" not in body
    assert client.get(f"/preuves/{school_proofs['tpm']}/modifier").status_code == 200


@pytest.mark.parametrize("path, method", [
    ("/modifier", "get"), ("/modifier", "post"), ("/versions", "post"),
    ("/criteres", "post"), ("/soumettre", "post"),
])
def test_site_manager_cannot_change_a_whole_school_proof(client, auth, demo, school_proofs,
                                                         path, method):
    """A whole-school proof is readable by a site manager, not editable: 403."""
    auth.login_demo(demo, "tpm")
    proof_id = school_proofs["school"]
    assert client.get(f"/preuves/{proof_id}").status_code == 200
    response = getattr(client, method)(f"/preuves/{proof_id}{path}", data={"title": "Piraté"})
    assert response.status_code == 403
    assert reloaded(proof_id).title == "Règlement intérieur"


@pytest.mark.parametrize("local_part, status", [
    ("auditeur", 403), ("cavem", 403), ("qualite", 200), ("direction", 200),
])
def test_personal_data_file_is_for_those_who_need_it(client, auth, demo, school_proofs,
                                                     local_part, status):
    """A whole-school proof with learners' data: auditor and another site get 403 on the file."""
    auth.login_demo(demo, local_part)
    proof_id = school_proofs["personal"]
    assert client.get(f"/preuves/{proof_id}").status_code == 200
    assert client.get(f"/preuves/{proof_id}/versions/1/fichier").status_code == status
    detail = page(client.get(f"/preuves/{proof_id}"))
    assert (f"/preuves/{proof_id}/versions/1/fichier" in detail) == (status == 200)


@pytest.mark.parametrize("path", ["", "/modifier", "/versions/1/fichier", "/versions/1/apercu"])
def test_another_schools_proof_does_not_exist_for_you(client, quality, make_user, make_evidence,
                                                      path):
    """Another school's proof, its form and its file are all 404."""
    stranger = make_user(Role.QUALITY_LEAD, school=SchoolFactory())
    proof = make_evidence(stranger, title="Preuve d’une autre école")
    assert client.get(f"/preuves/{proof.id}{path}").status_code == 404
    assert proof.id not in listed(client.get("/preuves/?q=autre"))
    assert proof.id not in listed(client.get("/preuves/"))


# ------------------------------------------------------------------------------------- search


def test_search_finds_title_description_and_pdf_text_and_filters(client, demo_quality,
                                                                 make_evidence, demo):
    """Title, description and the PDF's own text are searched; site, status and criterion
    filter; on SQLite accents are folded, PostgreSQL's french configuration keeps them."""
    author = demo_quality
    pdf = make_evidence(author, title="Séance du 12 mars").id  # text: « comité de pilotage »
    described = make_evidence(author, kind=EvidenceKind.LINK,
                              url="https://intranet.e2c-var.example/registre_2018",
                              title="Registre en ligne",
                              description="Registre des réclamations des stagiaires").id
    booklet = make_evidence(author, kind=EvidenceKind.PAPER, title="Livret d’accueil",
                            paper_location="Accueil du site TPM", site=demo_site("tpm")).id
    a2 = criterion("e2c-label", "A2")
    service.link_criterion(db.session, reloaded(pdf), a2, "", author)
    # Four-eyes (on in the demo): the director decides on the quality lead's proof.
    service.review(db.session, reloaded(booklet), demo_user(demo, "direction"),
                   ReviewStatus.VALIDATED)
    db.session.commit()

    accentless = db.engine.dialect.name == "sqlite"
    committee = "comite" if accentless else "comité"

    def found(query: str) -> set[int]:
        return listed(client.get("/preuves/", query_string={"q": query} if query else None))

    assert found(committee) == {pdf}
    assert found("pilotage") == {pdf}
    assert found("réclamations") == {described}
    assert found("Livret") == {booklet}
    assert found("registre") == {described}
    assert found("introuvable") == set()
    assert found("intranet") == found("registre 2018") == {described}  # words of the address
    if accentless:
        assert found("reclamations") == {described}
    for hostile in ['comité" OR *', "NEAR(a b)", "-pilotage", "'; DROP TABLE evidence; --", "*"]:
        assert client.get("/preuves/", query_string={"q": hostile}).status_code == 200

    assert listed(client.get(f"/preuves/?site={demo_site('tpm').id}")) == {booklet}
    assert listed(client.get("/preuves/?site=0")) == {pdf, described}
    assert listed(client.get("/preuves/?status=validee")) == {booklet}
    assert listed(client.get("/preuves/?status=brouillon")) == {pdf, described}
    assert listed(client.get(f"/preuves/?criterion={a2.id}")) == {pdf}
    assert listed(client.get("/preuves/", query_string={
        "q": "pilotage", "site": demo_site("tpm").id})) == set()
    assert listed(client.get("/preuves/", query_string={
        "q": "pilotage", "criterion": a2.id, "status": "brouillon"})) == {pdf}


def test_search_follows_the_current_version_and_edited_metadata(client, quality, make_evidence):
    """After a new version or an edit, search sees the new text and file name, not the old."""
    proof = make_evidence(quality, title="Séance", name="copil_2018-03.pdf")
    assert listed(client.get("/preuves/?q=pilotage")) == {proof.id}
    assert listed(client.get("/preuves/?q=copil")) == {proof.id}  # a word of the file name
    post_version(client, proof.id, "compte-rendu.docx",
                 (UPLOADS / "compte-rendu.docx").read_bytes())
    assert listed(client.get("/preuves/?q=pilotage")) == set()
    assert listed(client.get("/preuves/?q=copil")) == set()
    assert listed(client.get("/preuves/?q=opérationnel")) == {proof.id}
    assert listed(client.get("/preuves/?q=rendu")) == {proof.id}
    evidence = reloaded(proof.id)
    service.update_fields(db.session, evidence, service.EvidenceFields(title="Synthèse annuelle"),
                          quality, evidence.lock_version)
    db.session.commit()
    assert listed(client.get("/preuves/?q=Synthèse")) == {proof.id}
    assert listed(client.get("/preuves/?q=Séance")) == set()


# ------------------------------------------------------------------------------------- verify


def tamper(storage, key: str) -> None:
    """Change one byte of a stored object, keeping its size: only the hash can tell."""
    content = bytearray(b"".join(storage.open_chunks(key)))
    content[len(content) // 2] ^= 0xFF
    if isinstance(storage, S3Storage):
        storage.client.put_object(Bucket=storage.bucket, Key=storage.prefix + key,
                                  Body=bytes(content))
    else:
        storage._path(key).write_bytes(bytes(content))


def test_verify_reports_altered_missing_and_orphan_objects(app, runner, make_user, backend,
                                                           tmp_path):
    """All intact: exit 0 and a French summary. Then ALTÉRÉ, MANQUANT and ORPHELIN, exit 1."""
    author = make_user(Role.QUALITY_LEAD)
    proofs = [store_proof(app, author, fixture)
              for fixture in ("preuve.pdf", "note.txt", "image.png")]
    keys = [p.current_version.storage_key for p in proofs]

    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("3 version(s) vérifiée(s) : 0 manquante(s), 0 altérée(s), "
                                     "0 objet(s) orphelin(s).")

    tamper(backend, keys[0])
    backend.delete(keys[1])
    stray = tmp_path / "stray.bin"
    stray.write_bytes(b"objet sans ligne")
    backend.put("0rphan0bject", stray)

    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["MANQUANT", "ALTÉRÉ", "ORPHELIN"]
    assert f"preuve {proofs[1].id} v1 « note.txt » ({keys[1]})" in lines[0]
    assert f"preuve {proofs[0].id} v1 « preuve.pdf » : empreinte ou taille différente" in lines[1]
    assert "objet 0rphan0bject sans version en base" in lines[2]
    assert lines[-1] == ("3 version(s) vérifiée(s) : 1 manquante(s), 1 altérée(s), "
                         "1 objet(s) orphelin(s).")
    assert "image.png" not in result.output


# --------------------------------------------------------------------------------- SQL count


def statements_for(client, url: str) -> list[str]:
    """The SQL statements one GET issues (counted on the engine, whatever the session)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return seen


def add_proofs(author, make_evidence, count: int, start: int) -> None:
    """Documents, links and paper proofs, on sites and school-wide, each linked to a criterion
    (the first five already use every relationship the pages load, so only the count grows)."""
    sites = [None, demo_site("tpm"), demo_site("cavem")]
    criteria = [criterion("e2c-label", "A2"), criterion("qualiopi-v9", "28")]
    today = local_today()
    for n in range(start, start + count):
        kind = [EvidenceKind.FILE, EvidenceKind.LINK, EvidenceKind.PAPER][n % 3]
        proof = make_evidence(
            author, kind=kind, title=f"Preuve {n}", site=sites[n % 3],
            valid_until=today + timedelta(days=n - 10) if n % 2 else None,
            url="https://exemple.fr/p" if kind is EvidenceKind.LINK else None,
            paper_location="Bureau qualité" if kind is EvidenceKind.PAPER else None,
        )
        service.link_criterion(db.session, proof, criteria[n % 2], "", author)
        if n % 5 == 0:
            service.submit_for_review(db.session, proof, author)
    db.session.commit()


@pytest.mark.parametrize("url", ["/preuves/", "/preuves/?q=preuve",
                                 "/referentiels/criteres/{criterion}"])
def test_list_pages_issue_the_same_number_of_statements_for_5_or_50_proofs(
        client, demo_today, auth, make_evidence, url):
    """No N+1: the list (and a criterion's proofs) costs as many queries for 50 proofs as for 5."""
    auth.login_demo(demo_today, "qualite")
    author = demo_user(demo_today, "qualite")
    url = url.format(criterion=criterion("e2c-label", "A2").id)
    add_proofs(author, make_evidence, 5, start=0)
    client.get(url)  # warm-up: first-request work is not what is measured
    few = statements_for(client, url)
    add_proofs(author, make_evidence, 45, start=5)
    many = statements_for(client, url)
    assert len(many) == len(few), "\n".join(many)
    if url == "/preuves/":
        assert len(listed(client.get(url))) == 50
