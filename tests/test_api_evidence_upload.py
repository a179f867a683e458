"""API v1: a document sent as the request body (``POST /api/v1/evidence/upload``, and a new
version: ``POST /api/v1/evidence/<id>/versions/upload``), its name and metadata in the query
string; written once into the spool while hashed, checked like the form."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from audit_tracker.extensions import db
from audit_tracker.models import (
    ApiToken,
    Evidence,
    EvidenceVersion,
    Framework,
    JournalEntry,
    Role,
    User,
)
from audit_tracker.storage import upload_tmp_dir

from .conftest import UPLOADS

PDF_BYTES = (UPLOADS / "preuve.pdf").read_bytes()
URL = "/api/v1/evidence/upload"


def _send(client, headers, content: bytes, content_type="application/octet-stream", **params):
    return client.post(f"{URL}?{urlencode(params)}", headers=headers, data=content,
                       content_type=content_type)


def _nothing_kept(app, storage) -> bool:
    """No proof, no version, no stored object, nothing left in the spool folder."""
    return (db.session.scalar(select(func.count()).select_from(Evidence)) == 0
            and db.session.scalar(select(func.count()).select_from(EvidenceVersion)) == 0
            and list(storage.keys()) == []
            and list(upload_tmp_dir(app).iterdir()) == [])


@pytest.fixture
def quality(make_user, token_for):
    return token_for(make_user(Role.QUALITY_LEAD))


def test_a_body_upload_is_stored_once_with_its_hash_and_journal_entry(
        app, client, quality, storage, monkeypatch):
    """The body lands in the spool folder once (no Werkzeug file), hashed on the way; that very
    file (same inode) becomes the stored object; the journal has the creation, from the API."""
    import werkzeug.formparser

    def no_werkzeug_spool(*args, **kwargs):
        raise AssertionError("Werkzeug spooled the upload to a file of its own")

    monkeypatch.setattr(werkzeug.formparser, "default_stream_factory", no_werkzeug_spool)
    spooled = []
    real_mkstemp = tempfile.mkstemp

    def tracking_mkstemp(*args, **kwargs):
        fd, path = real_mkstemp(*args, **kwargs)
        spooled.append((path, os.fstat(fd).st_ino))
        return fd, path

    monkeypatch.setattr(tempfile, "mkstemp", tracking_mkstemp)
    # 2.6 MB of text: several 1 MiB chunks, the last one partial.
    content = b"jour;entrees;commentaire\n" + b"2018-02-01;12;assez long pour remplir\n" * 65_000

    response = _send(client, quality, content, "text/csv", filename="entrées février.csv",
                     title="Entrées de février", valid_until="2019-06-30")

    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    proof = response.json
    assert (proof["title"], proof["kind"], proof["status"]) == (
        "Entrées de février", "fichier", "brouillon")
    assert proof["valid_until"] == "2019-06-30"
    [version] = proof["versions"]
    assert version["sha256"] == hashlib.sha256(content).hexdigest()
    assert (version["size"], version["filename"]) == (len(content), "entrées février.csv")
    stored = db.session.scalar(select(EvidenceVersion))
    [key] = list(storage.keys())
    assert key == stored.storage_key and "entr" not in key  # an opaque name, not the user's
    assert storage._path(key).read_bytes() == content
    [(spool_path, inode)] = spooled
    assert os.path.dirname(spool_path) == str(upload_tmp_dir(app))
    assert storage._path(key).stat().st_ino == inode  # renamed into the storage, never copied
    assert list(upload_tmp_dir(app).iterdir()) == []
    created = db.session.scalars(select(JournalEntry).where(
        JournalEntry.table_name == Evidence.__table__.name, JournalEntry.kind == "create")).all()
    assert [(e.record_id, e.origin) for e in created] == [(str(proof["id"]), "api")]
    assert client.get(version["download_url"], headers=quality).data == content


def test_a_pdf_body_with_a_criterion_is_created_and_linked(client, demo):
    """The form's metadata rules, criterion and note included, apply to the query string."""
    framework = db.session.scalar(select(Framework).where(Framework.code == "qualiopi-v9"))
    criterion = framework.criteria[0]
    # The demo school's quality lead: its campaigns hold that référentiel.
    lead = db.session.scalar(select(User).where(User.email == "qualite@e2c-var.example"))
    token, clear = ApiToken.issue(lead, "tests")
    db.session.add(token)
    db.session.commit()

    response = _send(client, {"Authorization": f"Bearer {clear}"}, PDF_BYTES, "application/pdf",
                     filename="preuve.pdf", criterion_id=criterion.id,
                     note="Montre le planning", site="tpm")

    assert response.status_code == 201, response.json
    assert (response.json["title"], response.json["site"]) == ("preuve", "tpm")
    assert [(link["criterion_id"], link["note"]) for link in response.json["links"]] == [
        (criterion.id, "Montre le planning")]


@pytest.mark.parametrize(
    ("fixture", "params", "fragment"),
    [
        pytest.param("preuve.pdf", {}, "Indiquez le nom du fichier dans le paramètre « filename »",
                     id="sans-nom"),
        pytest.param("preuve.pdf", {"filename": "preuve.csv"}, "preuve.csv", id="extension-pdf"),
        pytest.param("page.html", {"filename": "page.txt"}, "page.txt", id="html-en-txt"),
        pytest.param("vide.pdf", {"filename": "vide.pdf"}, "vide", id="vide"),
        pytest.param("preuve.pdf", {"filename": "../preuve.pdf"}, "chemin", id="chemin"),
        pytest.param("preuve.pdf", {"filename": "preuve.pdf", "titre": "Faute de frappe"},
                     "Champs inconnus : titre", id="parametre-inconnu"),
        pytest.param("preuve.pdf", {"filename": "preuve.pdf", "valid_until": "31/12/2018"},
                     "Date invalide pour « valid_until »", id="date"),
        pytest.param("preuve.pdf", {"filename": "preuve.pdf", "site": "nulle-part"},
                     "Site inconnu : nulle-part", id="site-inconnu"),
        pytest.param("preuve.pdf", {"filename": "preuve.pdf", "personal_data": "oui"},
                     "date de fin de conservation", id="sans-conservation"),
    ],
)
def test_a_refused_body_upload_is_a_french_400_that_keeps_nothing(
        app, client, quality, storage, fixture, params, fragment):
    """Each refusal answers its French reason and leaves no row, no object, no spooled file."""
    response = _send(client, quality, (UPLOADS / fixture).read_bytes(), **params)

    assert response.status_code == 400, response.json
    assert fragment in response.json["error"]
    assert _nothing_kept(app, storage)


def test_an_executable_renamed_pdf_is_refused(app, client, quality, storage):
    response = _send(client, quality, b"MZ\x90\x00" + b"\x00" * 600_000, filename="programme.pdf")

    assert response.status_code == 400
    assert "programme.pdf" in response.json["error"]
    assert _nothing_kept(app, storage)


def test_a_body_over_the_limit_is_a_french_413_read_no_further(app, client, quality, storage):
    app.config["MAX_CONTENT_LENGTH"] = 1000

    response = _send(client, quality, PDF_BYTES, filename="preuve.pdf")

    assert response.status_code == 413
    assert "dépasse la taille maximale" in response.json["error"]
    assert _nothing_kept(app, storage)


def test_a_body_without_content_length_is_a_french_411(app, client, quality, storage):
    """A chunked body has no size to check before reading: refused, nothing read."""
    response = client.post(f"{URL}?filename=preuve.pdf",
                           headers={**quality, "Transfer-Encoding": "chunked"},
                           input_stream=io.BytesIO(PDF_BYTES), content_type="application/pdf")

    assert response.status_code == 411
    assert "Content-Length" in response.json["error"]
    assert _nothing_kept(app, storage)


@pytest.mark.parametrize("server_terminates_input", [False, True], ids=["werkzeug", "gunicorn"])
def test_a_body_shorter_than_announced_keeps_nothing(
        app, client, quality, storage, server_terminates_input):
    """The client went away mid-file: nothing of the partial file is kept, whether Werkzeug
    notices (its stream bounded by Content-Length) or the server ends the body early and the
    view counts the bytes (gunicorn sets ``wsgi.input_terminated``)."""
    overrides = {"CONTENT_LENGTH": str(len(PDF_BYTES) + 5000)}
    if server_terminates_input:
        overrides["wsgi.input_terminated"] = True
    response = client.post(f"{URL}?filename=preuve.pdf", headers=quality,
                           input_stream=io.BytesIO(PDF_BYTES), content_type="application/pdf",
                           environ_overrides=overrides)

    assert response.status_code == 400
    if server_terminates_input:
        assert "incomplet" in response.json["error"]
    assert response.json["error"]
    assert _nothing_kept(app, storage)


def test_a_multipart_body_sent_here_is_a_french_415(app, client, quality, storage):
    response = client.post(f"{URL}?filename=preuve.pdf", headers=quality,
                           data={"file": (io.BytesIO(PDF_BYTES), "preuve.pdf")},
                           content_type="multipart/form-data")

    assert response.status_code == 415
    assert "POST /api/v1/evidence" in response.json["error"]
    assert _nothing_kept(app, storage)


def test_the_same_bytes_twice_are_a_409_naming_the_existing_proof(app, client, quality, storage):
    first = _send(client, quality, PDF_BYTES, filename="preuve.pdf")
    again = _send(client, quality, PDF_BYTES, filename="copie.pdf")

    assert (first.status_code, again.status_code) == (201, 409)
    assert again.json["existing_id"] == first.json["id"]
    assert len(list(storage.keys())) == 1
    assert list(upload_tmp_dir(app).iterdir()) == []


@pytest.mark.parametrize(("role", "status"), [(Role.AUDITOR, 403), (None, 401)])
def test_without_the_right_to_file_nothing_is_stored(
        app, client, make_user, token_for, storage, role, status):
    headers = token_for(make_user(role)) if role is not None else {}

    response = _send(client, headers, PDF_BYTES, filename="preuve.pdf")

    assert response.status_code == status
    assert response.json["error"]
    assert _nothing_kept(app, storage)


def test_the_document_describes_the_body_and_its_query_string(client):
    operation = client.get("/api/v1/openapi.json").json["paths"]["/evidence/upload"]["post"]

    assert set(operation["requestBody"]["content"]) == {"*/*"}
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["filename"]["required"] is True
    assert {"title", "site", "criterion_id", "personal_data"} <= set(parameters)
    assert not {"file", "url", "paper_location"} & set(parameters)
    assert {"411", "413", "415"} <= set(operation["responses"])


# ------------------------------------------------------------------ a new version as the body


def _version(client, headers, evidence_id: int, content: bytes, **params):
    return client.post(f"/api/v1/evidence/{evidence_id}/versions/upload?{urlencode(params)}",
                       headers=headers, data=content, content_type="application/octet-stream")


def test_a_new_version_sent_as_the_body_is_number_2_and_to_review(app, client, quality, storage):
    proof = _send(client, quality, PDF_BYTES, filename="preuve.pdf").json
    second = (UPLOADS / "chiffre.pdf").read_bytes()

    response = _version(client, quality, proof["id"], second, filename="preuve v2.pdf")

    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    assert (response.json["number"], response.json["filename"]) == (2, "preuve v2.pdf")
    assert response.json["sha256"] == hashlib.sha256(second).hexdigest()
    assert response.json["evidence_status"] == "a_valider"
    assert client.get(response.json["download_url"], headers=quality).data == second
    assert len(list(storage.keys())) == 2
    assert list(upload_tmp_dir(app).iterdir()) == []


def test_a_refused_version_body_keeps_the_proof_as_it_was(app, client, quality, storage):
    """An executable named .pdf, a missing name, a multipart form: French errors, no version,
    nothing left in the spool, the proof's status unchanged."""
    proof = _send(client, quality, PDF_BYTES, filename="preuve.pdf").json
    url = f"/api/v1/evidence/{proof['id']}/versions"

    executable = _version(client, quality, proof["id"],
                          (UPLOADS / "programme.pdf").read_bytes(), filename="v2.pdf")
    unnamed = _version(client, quality, proof["id"], PDF_BYTES)
    multipart = client.post(f"{url}/upload?filename=v2.pdf", headers=quality,
                            data={"file": (io.BytesIO(PDF_BYTES), "v2.pdf")},
                            content_type="multipart/form-data")

    assert executable.status_code == 400 and "programme exécutable" in executable.json["error"]
    assert unnamed.status_code == 400 and "filename" in unnamed.json["error"]
    assert multipart.status_code == 415 and f"POST {url}" in multipart.json["error"]
    detail = client.get(f"/api/v1/evidence/{proof['id']}", headers=quality).json
    assert (detail["status"], len(detail["versions"])) == ("brouillon", 1)
    assert len(list(storage.keys())) == 1
    assert list(upload_tmp_dir(app).iterdir()) == []


def test_a_version_of_a_proof_out_of_reach_is_refused_before_the_body_is_read(
        app, client, quality, make_user, token_for, storage):
    proof = _send(client, quality, PDF_BYTES, filename="preuve.pdf").json
    auditor = token_for(make_user(Role.AUDITOR))

    assert _version(client, auditor, proof["id"], PDF_BYTES, filename="v2.pdf").status_code == 403
    assert _version(client, quality, proof["id"] + 1000, PDF_BYTES,
                    filename="v2.pdf").status_code == 404
    assert len(list(storage.keys())) == 1
    assert list(upload_tmp_dir(app).iterdir()) == []


def test_the_document_describes_the_version_body(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    operation = paths["/evidence/{evidence_id}/versions/upload"]["post"]

    assert set(operation["requestBody"]["content"]) == {"*/*"}
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["filename"]
    assert {"201", "411", "413", "415"} <= set(operation["responses"])
