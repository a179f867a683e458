"""API v1 for proofs: upload, versions, links, review, download and search, through the service."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from audit_tracker.domain.errors import Conflict
from audit_tracker.evidence import service
from audit_tracker.extensions import db
from audit_tracker.models import (
    ApiToken,
    Criterion,
    Evidence,
    EvidenceKind,
    Framework,
    Role,
    User,
)
from audit_tracker.storage import upload_tmp_dir

from .conftest import UPLOADS

PDF_BYTES = (UPLOADS / "preuve.pdf").read_bytes()


@pytest.fixture
def headers_for(demo):
    """Bearer headers for a demo account, by the local part of its e-mail."""

    def issue(local_part: str) -> dict[str, str]:
        user = db.session.scalar(select(User).where(User.email == _email(local_part)))
        token, clear = ApiToken.issue(user, "tests")
        db.session.add(token)
        db.session.commit()
        return {"Authorization": f"Bearer {clear}"}

    return issue


@pytest.fixture
def director(headers_for):
    return headers_for("direction")


def _email(local_part: str) -> str:
    return f"{local_part}@e2c-var.example"


def _upload(client, headers, name="preuve.pdf", fixture=None, content=None, **fields):
    data = content if content is not None else (UPLOADS / (fixture or name)).read_bytes()
    return client.post(
        "/api/v1/evidence",
        headers=headers,
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def _post_form(client, headers, path="/api/v1/evidence", **fields):
    return client.post(path, headers=headers, data=fields, content_type="multipart/form-data")


def _evidence_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Evidence))


def _qualiopi_criterion(position: int = 0) -> Criterion:
    framework = db.session.scalar(select(Framework).where(Framework.code == "qualiopi-v9"))
    return framework.criteria[position]


def _is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


# --------------------------------------------------------------------------------- creating


def test_pdf_upload_creates_a_draft_document_with_its_sha256(client, director):
    """A PDF becomes a draft document whose version carries the file's hash, type and size."""
    response = _upload(client, director, title="Compte rendu du COPIL")

    assert response.status_code == 201
    proof = response.json
    assert (proof["title"], proof["kind"], proof["status"]) == (
        "Compte rendu du COPIL", "fichier", "brouillon")
    assert proof["site"] is None and proof["links"] == []
    [version] = proof["versions"]
    assert version["number"] == 1
    assert version["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    assert version["size"] == len(PDF_BYTES)
    assert version["media_type"] == "application/pdf"
    assert version["filename"] == "preuve.pdf"
    assert version["flags"] == []
    assert version["download_url"] == f"/api/v1/evidence/{proof['id']}/versions/1/file"
    assert db.session.get(Evidence, proof["id"]).owner.email == _email("direction")


def test_the_same_file_twice_is_a_409_naming_the_existing_proof(client, director, storage):
    """As on the pages: nothing duplicated silently, the existing proof named in French."""
    first = _upload(client, director, title="Compte rendu du COPIL").json
    count = _evidence_count()

    again = _upload(client, director, name="copie.pdf", fixture="preuve.pdf", title="Copie")

    assert again.status_code == 409
    assert again.json["existing_id"] == first["id"]
    assert again.json["existing_title"] == "Compte rendu du COPIL"
    assert again.json["error"].startswith("Ce fichier est déjà dans la bibliothèque")
    assert _evidence_count() == count
    assert not list(upload_tmp_dir(client.application).iterdir())  # nothing kept of the copy


def test_the_same_file_is_linked_on_request_to_the_criterion(client, director):
    """With link_if_duplicate and a criterion, the existing proof is linked: 200, not a copy."""
    first = _upload(client, director).json
    criterion = _qualiopi_criterion()
    count = _evidence_count()

    response = _upload(client, director, criterion_id=str(criterion.id),
                       note="Ordre du jour", link_if_duplicate="true")

    assert response.status_code == 200
    assert response.json["id"] == first["id"]
    assert [(link["criterion_id"], link["note"]) for link in response.json["links"]] == [
        (criterion.id, "Ordre du jour")]
    assert _evidence_count() == count
    # Asked again: still the one proof, still one link.
    twice = _upload(client, director, criterion_id=str(criterion.id), link_if_duplicate="true")
    assert twice.status_code == 200 and len(twice.json["links"]) == 1
    # Linking needs a criterion to link to.
    alone = _upload(client, director, link_if_duplicate="true")
    assert alone.status_code == 400 and "criterion_id" in alone.json["error"]


def test_a_new_file_with_a_criterion_is_created_and_linked_in_one_step(client, director):
    criterion = _qualiopi_criterion(1)
    response = _upload(client, director, criterion_id=str(criterion.id), note="Plan")
    assert response.status_code == 201
    assert [(link["criterion_id"], link["note"]) for link in response.json["links"]] == [
        (criterion.id, "Plan")]


def test_file_name_with_accents_is_kept_and_gives_the_default_title(client, director):
    """The user's name (accents, œ, apostrophe) is kept; without a title it gives the title."""
    name = "Procès-verbal du comité d’œuvre.pdf"
    response = _upload(client, director, name=name, fixture="preuve.pdf")

    assert response.status_code == 201
    assert response.json["versions"][0]["filename"] == name
    assert response.json["title"] == "Procès-verbal du comité d’œuvre"


def test_metadata_fields_are_stored_and_returned(client, director):
    """Site code, period, validity and personal data come back as sent, dates in ISO form."""
    response = _upload(
        client, director, title="Émargements", site="cavem", covers_from="2017-09-01",
        covers_to="2018-06-30", valid_until="2018-12-31", personal_data="true",
        retention_until="2021-12-31", description="Feuilles de présence",
    )

    assert response.status_code == 201
    proof = response.json
    assert proof["site"] == "cavem"
    assert (proof["covers_from"], proof["covers_to"], proof["valid_until"]) == (
        "2017-09-01", "2018-06-30", "2018-12-31")
    assert (proof["personal_data"], proof["retention_until"]) == (True, "2021-12-31")
    assert proof["description"] == "Feuilles de présence"
    stored = db.session.get(Evidence, proof["id"])
    assert stored.valid_until == date(2018, 12, 31) and stored.site.code == "cavem"


def test_link_proof_is_created_with_its_url(client, director):
    """A ``url`` field makes a link proof, with no version."""
    response = _post_form(client, director, title="Site web de l’école",
                          url="https://e2c-var.example/formation")

    assert response.status_code == 201
    assert response.json["kind"] == "lien"
    assert response.json["url"] == "https://e2c-var.example/formation"
    assert response.json["versions"] == []


def test_paper_proof_is_created_with_its_location_and_custodian(client, director):
    """A ``paper_location`` field makes a paper proof, kept on site with its custodian."""
    response = _post_form(client, director, title="Registre des entrées",
                          paper_location="Bureau de l’accueil, armoire 2",
                          paper_custodian="Mme Martin")

    assert response.status_code == 201
    proof = response.json
    assert proof["kind"] == "papier"
    assert (proof["paper_location"], proof["paper_custodian"]) == (
        "Bureau de l’accueil, armoire 2", "Mme Martin")
    assert proof["url"] is None and proof["versions"] == []


def test_encrypted_pdf_is_accepted_and_flagged(client, director):
    """A password-protected PDF is stored, flagged « chiffre » for the reader."""
    response = _upload(client, director, name="chiffre.pdf")

    assert response.status_code == 201
    assert response.json["versions"][0]["flags"] == ["chiffre"]


# --------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        pytest.param({"file": "programme.pdf"}, "programme exécutable", id="exe-renomme-pdf"),
        pytest.param({"file": "script.svg"}, "les images SVG ne sont pas acceptées", id="svg"),
        pytest.param({"file": "vide.pdf"}, "le fichier est vide", id="vide"),
        pytest.param({"file": "bombe.docx"}, "archive suspecte", id="bombe-docx"),
        pytest.param({"file": ("preuve.pdf", "../x.pdf")}, "chemin", id="remontee"),
        pytest.param({"url": "javascript:alert(1)"}, "Lien refusé", id="javascript"),
        pytest.param({"url": "data:text/html,<b>x</b>"}, "Lien refusé", id="data"),
        pytest.param({"file": "preuve.pdf", "personal_data": "true"},
                     "date de fin de conservation", id="sans-conservation"),
        pytest.param({"paper_location": "   "}, "exactement un des champs", id="lieu-vide"),
        pytest.param({"file": "preuve.pdf", "url": "https://example.org"},
                     "exactement un des champs", id="fichier-et-lien"),
    ],
)
def test_refused_creation_is_a_french_400_that_stores_nothing(
        app, client, director, storage, fields, fragment):
    """Each refusal answers its French reason and leaves no row, no object and no spooled file."""
    data = {"title": "Refusée"}
    for name, value in fields.items():
        if name == "file":
            fixture, filename = value if isinstance(value, tuple) else (value, value)
            data["file"] = (io.BytesIO((UPLOADS / fixture).read_bytes()), filename)
        else:
            data[name] = value

    response = client.post("/api/v1/evidence", headers=director, data=data,
                           content_type="multipart/form-data")

    assert response.status_code == 400
    assert fragment in response.json["error"]
    assert _evidence_count() == 0
    assert list(storage.keys()) == []
    assert list(upload_tmp_dir(app).iterdir()) == []


@pytest.mark.parametrize("field", ["valid_until", "covers_from", "covers_to", "retention_until"])
def test_bad_date_is_a_french_400_naming_the_field(client, director, storage, field):
    """A date that is not AAAA-MM-JJ is refused before the file is even received."""
    response = _upload(client, director, **{field: "31/12/2018"})

    assert response.status_code == 400
    assert response.json["error"] == (
        f"Date invalide pour « {field} » : « 31/12/2018 » ; attendu AAAA-MM-JJ.")
    assert _evidence_count() == 0 and list(storage.keys()) == []


def test_unknown_site_code_is_a_french_400(client, director):
    """A site code of no site of the school is refused, naming the code."""
    response = _upload(client, director, site="marseille")

    assert response.status_code == 400
    assert response.json == {"error": "Site inconnu : marseille."}


@pytest.mark.parametrize(("field", "limit"), [("paper_location", 300), ("paper_custodian", 200)])
def test_too_long_paper_fields_are_a_french_400_not_a_server_error(client, director, field,
                                                                     limit):
    """Longer than its column, a paper field is refused in French (PostgreSQL would fail)."""
    fields = {"title": "Registre", "paper_location": "Accueil", field: "x" * (limit + 1)}

    response = _post_form(client, director, **fields)

    assert response.status_code == 400
    assert response.json == {
        "error": f"« {field} » ne doit pas dépasser {limit} caractères."}
    assert _evidence_count() == 0


def test_period_ending_before_it_starts_is_refused_with_the_service_message(client, director):
    """The service's own checks reach the API client unchanged."""
    response = _upload(client, director, covers_from="2018-06-30", covers_to="2017-09-01")

    assert response.status_code == 400
    assert response.json == {"error": "La période couverte se termine avant de commencer."}


# --------------------------------------------------------------------------------- versions


def test_new_version_is_number_2_and_sends_the_proof_back_to_review(client, director):
    """A second file becomes version 2 and the proof is « à valider » again."""
    proof = _upload(client, director).json

    response = client.post(
        f"/api/v1/evidence/{proof['id']}/versions", headers=director,
        data={"file": (io.BytesIO((UPLOADS / "chiffre.pdf").read_bytes()), "v2.pdf")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 201
    assert response.json["number"] == 2
    assert response.json["filename"] == "v2.pdf"
    assert response.json["evidence_status"] == "a_valider"
    detail = client.get(f"/api/v1/evidence/{proof['id']}", headers=director).json
    assert detail["status"] == "a_valider"
    assert [v["number"] for v in detail["versions"]] == [1, 2]


def test_refused_new_version_keeps_the_proof_as_it_was(client, director, storage):
    """A refused file is a French 400; no version, no object, status unchanged."""
    proof = _upload(client, director).json

    response = client.post(
        f"/api/v1/evidence/{proof['id']}/versions", headers=director,
        data={"file": (io.BytesIO((UPLOADS / "programme.pdf").read_bytes()), "v2.pdf")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "programme exécutable" in response.json["error"]
    detail = client.get(f"/api/v1/evidence/{proof['id']}", headers=director).json
    assert (detail["status"], len(detail["versions"])) == ("brouillon", 1)
    assert len(list(storage.keys())) == 1


def test_new_version_without_a_file_is_a_french_400(client, director):
    """The multipart field ``file`` is required."""
    proof = _upload(client, director).json

    response = _post_form(client, director, f"/api/v1/evidence/{proof['id']}/versions")

    assert response.status_code == 400
    assert "file" in response.json["error"]


def test_a_link_proof_gets_no_version(client, director):
    """Only a document has versions: the service's refusal comes back as a 400."""
    proof = _post_form(client, director, title="Lien", url="https://example.org").json

    response = client.post(
        f"/api/v1/evidence/{proof['id']}/versions", headers=director,
        data={"file": (io.BytesIO(PDF_BYTES), "v2.pdf")}, content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert response.json == {"error": "Seul un document peut recevoir une nouvelle version."}


# --------------------------------------------------------------------------------- download


def test_download_returns_the_exact_bytes_as_an_attachment(client, director):
    """The file comes back byte for byte, as an attachment with the user's file name."""
    proof = _upload(client, director, name="Comité.pdf", fixture="preuve.pdf").json

    response = client.get(proof["versions"][0]["download_url"], headers=director)

    assert response.status_code == 200
    assert response.data == PDF_BYTES
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "UTF-8''Comit%C3%A9.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_download_of_a_missing_version_is_a_json_404(client, director):
    """Version 9 of a one-version proof does not exist."""
    proof = _upload(client, director).json

    response = client.get(f"/api/v1/evidence/{proof['id']}/versions/9/file", headers=director)

    assert response.status_code == 404
    assert response.json == {"error": "Version introuvable."}


def test_personal_data_file_is_403_for_the_auditor_and_has_no_download_url(
        client, director, headers_for):
    """Learners' personal data: the auditor sees the proof but not its file."""
    proof = _upload(client, director, personal_data="true", retention_until="2021-12-31").json
    auditor = headers_for("auditeur")

    seen = client.get(f"/api/v1/evidence/{proof['id']}", headers=auditor)
    response = client.get(f"/api/v1/evidence/{proof['id']}/versions/1/file", headers=auditor)

    assert seen.status_code == 200
    assert seen.json["versions"][0]["download_url"] is None
    assert response.status_code == 403
    assert "données personnelles" in response.json["error"]
    assert client.get(f"/api/v1/evidence/{proof['id']}/versions/1/file",
                      headers=director).status_code == 200


# ------------------------------------------------------------------------------------ links


def test_link_to_a_criterion_then_get_shows_it(client, director):
    """The link answers 201 and the proof then lists the criterion with its framework and note."""
    proof = _upload(client, director).json
    criterion = _qualiopi_criterion()

    response = client.post(f"/api/v1/evidence/{proof['id']}/criteria", headers=director,
                           json={"criterion_id": criterion.id, "note": "Ordre du jour"})

    assert response.status_code == 201
    assert response.json["criterion_id"] == criterion.id
    links = client.get(f"/api/v1/evidence/{proof['id']}", headers=director).json["links"]
    assert [(link["criterion_id"], link["code"], link["framework"], link["note"])
            for link in links] == [(criterion.id, "1", "qualiopi-v9", "Ordre du jour")]


def test_linking_twice_to_the_same_criterion_is_a_french_400(client, director):
    """The second identical link gets the service's message."""
    proof = _upload(client, director).json
    body = {"criterion_id": _qualiopi_criterion().id}
    client.post(f"/api/v1/evidence/{proof['id']}/criteria", headers=director, json=body)

    response = client.post(f"/api/v1/evidence/{proof['id']}/criteria", headers=director,
                           json=body)

    assert response.status_code == 400
    assert response.json == {"error": "Cette preuve est déjà liée à ce critère."}


def test_unknown_criterion_is_a_json_404(client, director):
    """A criterion id that does not exist answers 404 in French."""
    proof = _upload(client, director).json

    response = client.post(f"/api/v1/evidence/{proof['id']}/criteria", headers=director,
                           json={"criterion_id": 999999})

    assert response.status_code == 404
    assert response.json == {"error": "Critère introuvable."}


@pytest.mark.parametrize("body", [None, {"note": "x"}, {"criterion_id": "abc"},
                                  {"criterion_id": True}])
def test_link_without_a_valid_criterion_id_is_a_french_400(client, director, body):
    """No JSON body, or a criterion_id that is not an integer, is a 400."""
    proof = _upload(client, director).json

    response = client.post(f"/api/v1/evidence/{proof['id']}/criteria", headers=director,
                           json=body)

    assert response.status_code == 400
    assert response.json["error"]


# ----------------------------------------------------------------------------------- review


def test_refusal_without_reason_is_a_french_400(client, director):
    """Refusing needs a reason; the proof stays as it was."""
    proof = _upload(client, director).json

    response = client.post(f"/api/v1/evidence/{proof['id']}/review", headers=director,
                           json={"decision": "refusee", "reason": "  "})

    assert response.status_code == 400
    assert response.json == {"error": "Indiquez pourquoi la preuve est refusée."}
    assert db.session.get(Evidence, proof["id"]).status.value == "brouillon"


def test_director_validates_a_proof(client, director, headers_for):
    """A director's validation answers the proof, now « validee » (four-eyes, on in the demo:
    the quality lead's proof, not her own)."""
    proof = _upload(client, headers_for("qualite")).json

    response = client.post(f"/api/v1/evidence/{proof['id']}/review", headers=director,
                           json={"decision": "validee"})

    assert response.status_code == 200
    assert response.json["status"] == "validee"
    assert response.json["id"] == proof["id"]


def test_refusal_with_a_reason_is_kept_in_the_trail(client, headers_for):
    """The quality lead refuses with a reason, recorded by the service (four-eyes: the
    director's proof)."""
    quality = headers_for("qualite")
    proof = _upload(client, headers_for("direction")).json

    response = client.post(f"/api/v1/evidence/{proof['id']}/review", headers=quality,
                           json={"decision": "refusee", "reason": "Illisible"})

    assert response.json["status"] == "refusee"
    assert db.session.get(Evidence, proof["id"]).reviews[-1].reason == "Illisible"


@pytest.mark.parametrize("decision", ["brouillon", "validée", None])
def test_unknown_decision_is_a_french_400(client, director, decision):
    """Only « validee » and « refusee » are decisions."""
    proof = _upload(client, director).json

    response = client.post(f"/api/v1/evidence/{proof['id']}/review", headers=director,
                           json={"decision": decision})

    assert response.status_code == 400
    assert "validee" in response.json["error"]


def test_service_conflict_is_a_409(client, director, monkeypatch):
    """A proof changed meanwhile (service Conflict) answers 409 with the service's message."""
    proof = _upload(client, director).json

    def stale(*_args, **_kwargs):
        raise Conflict("Cette preuve a été modifiée par quelqu’un d’autre.")

    monkeypatch.setattr(service, "review", stale)
    response = client.post(f"/api/v1/evidence/{proof['id']}/review", headers=director,
                           json={"decision": "validee"})

    assert response.status_code == 409
    assert response.json == {"error": "Cette preuve a été modifiée par quelqu’un d’autre."}


# ------------------------------------------------------------------------------------ roles


def test_auditor_reads_and_downloads_but_cannot_change_anything(client, director, headers_for):
    """The auditor's token reads and downloads; every change is a 403."""
    proof = _upload(client, director).json
    auditor = headers_for("auditeur")
    base = f"/api/v1/evidence/{proof['id']}"

    assert client.get(base, headers=auditor).status_code == 200
    assert client.get(f"{base}/versions/1/file", headers=auditor).data == PDF_BYTES
    assert client.get("/api/v1/evidence", headers=auditor).status_code == 200
    refused = [
        _upload(client, auditor),
        client.post(f"{base}/versions", headers=auditor,
                    data={"file": (io.BytesIO(PDF_BYTES), "v2.pdf")}),
        client.post(f"{base}/criteria", headers=auditor,
                    json={"criterion_id": _qualiopi_criterion().id}),
        client.post(f"{base}/review", headers=auditor, json={"decision": "validee"}),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert all(r.json["error"] for r in refused)
    assert _evidence_count() == 1


def test_site_manager_cannot_review(client, director, headers_for):
    """Reviewing needs REVIEW_EVIDENCE, which a site manager lacks."""
    proof = _upload(client, director, site="tpm").json

    response = client.post(f"/api/v1/evidence/{proof['id']}/review",
                           headers=headers_for("tpm"), json={"decision": "validee"})

    assert response.status_code == 403


def test_site_manager_cannot_change_a_whole_school_proof(client, director, headers_for):
    """TPM's manager sees the whole school's proof but may add neither a version nor a link."""
    proof = _upload(client, director).json
    tpm = headers_for("tpm")
    base = f"/api/v1/evidence/{proof['id']}"

    assert client.get(base, headers=tpm).status_code == 200
    version = client.post(f"{base}/versions", headers=tpm,
                          data={"file": (io.BytesIO(PDF_BYTES), "v2.pdf")})
    link = client.post(f"{base}/criteria", headers=tpm,
                       json={"criterion_id": _qualiopi_criterion().id})

    assert (version.status_code, link.status_code) == (403, 403)
    assert version.json == {"error": "Vous ne pouvez pas modifier cette preuve."}
    assert len(db.session.get(Evidence, proof["id"]).versions) == 1


def test_site_manager_creates_and_versions_a_proof_for_own_site(client, headers_for):
    """TPM's manager files a proof (for TPM even without ``site``) and adds a version to it."""
    tpm = headers_for("tpm")

    response = _upload(client, tpm)
    version = client.post(f"/api/v1/evidence/{response.json['id']}/versions", headers=tpm,
                          data={"file": (io.BytesIO(PDF_BYTES), "v2.pdf")})

    assert response.status_code == 201
    assert response.json["site"] == "tpm"
    assert version.status_code == 201


def test_site_manager_cannot_file_for_another_site(client, headers_for):
    """The service refuses a site manager's proof for another site, in French."""
    response = _upload(client, headers_for("tpm"), site="cavem")

    assert response.status_code == 400
    assert response.json == {"error": "Vous ne pouvez déposer des preuves que pour votre site."}
    assert _evidence_count() == 0


def test_site_manager_does_not_see_another_sites_proof(client, director, headers_for):
    """CAVEM's proof does not exist for TPM's manager, nor in their search."""
    proof = _upload(client, director, site="cavem", title="Bilan CAVEM").json
    tpm = headers_for("tpm")

    assert client.get(f"/api/v1/evidence/{proof['id']}", headers=tpm).status_code == 404
    assert client.get("/api/v1/evidence?q=Bilan", headers=tpm).json == []


def test_other_schools_proof_is_a_404_everywhere(client, director, make_user, make_evidence):
    """Another school's proof is neither shown, downloaded, versioned, linked nor reviewed."""
    stranger = make_user(Role.QUALITY_LEAD)
    other = make_evidence(stranger, title="Preuve d’une autre école")
    base = f"/api/v1/evidence/{other.id}"

    responses = [
        client.get(base, headers=director),
        client.get(f"{base}/versions/1/file", headers=director),
        client.post(f"{base}/versions", headers=director,
                    data={"file": (io.BytesIO(PDF_BYTES), "v2.pdf")}),
        client.post(f"{base}/criteria", headers=director,
                    json={"criterion_id": _qualiopi_criterion().id}),
        client.post(f"{base}/review", headers=director, json={"decision": "validee"}),
    ]

    assert [r.status_code for r in responses] == [404] * 5
    assert responses[0].json == {"error": "Preuve introuvable."}
    assert client.get("/api/v1/evidence?q=autre", headers=director).json == []


# ----------------------------------------------------------------------------------- search


def test_search_finds_words_from_the_pdf_text(client, director):
    """Words of the PDF's text find it; on SQLite accents are folded (« comite » → « Comité »)."""
    proof = _upload(client, director, title="Document sans rapport").json
    _post_form(client, director, title="Autre preuve", url="https://example.org")

    def found(query: str) -> list[int]:
        response = client.get("/api/v1/evidence", headers=director, query_string={"q": query})
        assert response.status_code == 200
        return [item["id"] for item in response.json]

    assert found("pilotage") == [proof["id"]]
    assert found("Comité") == [proof["id"]]
    if _is_sqlite():  # FTS5 folds accents; PostgreSQL's french config does not promise it
        assert found("comite") == [proof["id"]]
    assert found("inexistant") == []


def test_search_filters_by_site_status_criterion_and_expiry(client, director, headers_for):
    """The query string filters map onto the service's SearchFilters."""
    school_wide = _upload(client, director, title="École", valid_until="2018-03-01").json
    # Another file: the same bytes twice would be refused as a duplicate.
    cavem = _upload(client, director, name="image.png", title="CAVEM", site="cavem").json
    criterion = _qualiopi_criterion()
    client.post(f"/api/v1/evidence/{cavem['id']}/criteria", headers=director,
                json={"criterion_id": criterion.id})
    # Four-eyes (on in the demo): the quality lead validates the director's proof.
    validated = client.post(f"/api/v1/evidence/{school_wide['id']}/review",
                            headers=headers_for("qualite"), json={"decision": "validee"})
    assert validated.status_code == 200

    def ids(**args) -> set[int]:
        response = client.get("/api/v1/evidence", headers=director, query_string=args)
        assert response.status_code == 200, response.json
        return {item["id"] for item in response.json}

    assert ids() == {school_wide["id"], cavem["id"]}
    assert ids(site="cavem") == {cavem["id"]}
    assert ids(site="ecole") == {school_wide["id"]}
    assert ids(status="validee") == {school_wide["id"]}
    assert ids(criterion_id=criterion.id) == {cavem["id"]}
    assert ids(expiring_before="2018-06-01") == {school_wide["id"]}


@pytest.mark.parametrize(("args", "fragment"), [
    ({"status": "perdue"}, "Statut inconnu"),
    ({"site": "marseille"}, "Site inconnu"),
    ({"criterion_id": "x"}, "criterion_id"),
    ({"expiring_before": "demain"}, "expiring_before"),
])
def test_bad_search_filter_is_a_french_400(client, director, args, fragment):
    """An unknown status or site, or a malformed id or date, names what is wrong."""
    response = client.get("/api/v1/evidence", headers=director, query_string=args)

    assert response.status_code == 400
    assert fragment in response.json["error"]


# ---------------------------------------------------------------------------------- openapi


def test_openapi_describes_the_request_bodies_and_the_evidence_schema(client):
    """Uploads are multipart, links and reviews JSON, and answers use the Evidence schema."""
    document = client.get("/api/v1/openapi.json").json
    paths = document["paths"]

    assert "multipart/form-data" in paths["/evidence"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in (
        paths["/evidence/{evidence_id}/versions"]["post"]["requestBody"]["content"])
    for path in ("/evidence/{evidence_id}/criteria", "/evidence/{evidence_id}/review"):
        assert "application/json" in paths[path]["post"]["requestBody"]["content"]
    evidence = document["components"]["schemas"]["Evidence"]["properties"]
    assert {"id", "title", "kind", "status", "site", "valid_until", "covers_from", "covers_to",
            "personal_data", "url", "paper_location", "links", "versions"} <= set(evidence)
    assert EvidenceKind.PAPER.value in evidence["kind"]["enum"]
