"""API v1 for dossier builds: 202 and a job to poll, every bad option listed in French, the
files once done, and the same access rules as the pages."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from pypdf import PdfReader

from audit_tracker import jobs
from audit_tracker.clock import local_today
from audit_tracker.dossier.builds import DOSSIER_BUILD
from audit_tracker.extensions import db
from audit_tracker.models import BuildStatus, DossierBuild, Role
from audit_tracker.readiness.rules import default_reference_date

from .test_dossier_jobs import demo_campaign, linked_proof, user, wait_until_finished  # noqa: F401 (fixture)


@pytest.fixture(autouse=True)
def _stop_runner(app):
    yield
    jobs.shutdown(app)


@pytest.fixture
def campaign(demo_today):
    return demo_campaign()


@pytest.fixture
def headers(token_for, demo_today):
    return lambda local_part: token_for(user(local_part))


def test_start_answers_202_with_the_job_and_its_location(client, headers, campaign,
                                                         linked_proof):  # noqa: F811
    director = headers("direction")
    response = client.post(f"/api/v1/campaigns/{campaign.id}/dossier", headers=director,
                           json={"with_annexes": True})
    assert response.status_code == 202
    job_id = response.json["job_id"]
    assert response.headers["Location"] == f"/api/v1/jobs/{job_id}"
    assert response.json["status"] == "queued"

    first = client.get(response.headers["Location"], headers=director).json
    assert first["status"] in {"queued", "running", "done"}
    assert first["job_id"] == job_id and 0 <= first["progress"] <= 100

    build = wait_until_finished(job_id)
    job = client.get(f"/api/v1/jobs/{job_id}", headers=director).json
    assert job["status"] == "done", job["error"]
    assert job["progress"] == 100 and job["error"] is None
    assert job["sha256"] == build.sha256 and job["page_count"] == build.page_count
    # No date given: the build records the default one, the next audit.
    expected = default_reference_date(campaign, local_today()).isoformat()
    assert job["options"]["as_of"] == expected
    assert job["pdf_url"] == f"/api/v1/jobs/{job_id}/dossier.pdf"

    pdf = client.get(job["pdf_url"], headers=director)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == job["sha256"]
    assert len(PdfReader(io.BytesIO(pdf.data)).pages) == job["page_count"]
    archive = client.get(job["zip_url"], headers=director)
    assert hashlib.sha256(archive.data).hexdigest() == job["zip_sha256"]
    with zipfile.ZipFile(io.BytesIO(archive.data)) as bundle:
        assert bundle.testzip() is None

    listing = client.get(f"/api/v1/campaigns/{campaign.id}/dossier", headers=director).json
    assert [item["job_id"] for item in listing] == [job_id]


def test_every_bad_option_is_listed_in_french(client, headers, campaign):
    response = client.post(
        f"/api/v1/campaigns/{campaign.id}/dossier",
        headers=headers("qualite"),
        json={"site_ids": "tpm", "with_annexes": "oui", "as_of": "10/04/2018", "couleur": 1,
              "with_zip": "non"},
    )
    assert response.status_code == 400
    assert response.json["error"] == "Options du dossier invalides."
    errors = " | ".join(response.json["errors"])
    assert len(response.json["errors"]) == 5, errors
    for fragment in ("with_zip", "site_ids", "with_annexes", "10/04/2018", "couleur"):
        assert fragment in errors
    assert db.session.query(DossierBuild).count() == 0


def test_ids_outside_the_campaign_are_refused(client, headers, campaign):
    response = client.post(f"/api/v1/campaigns/{campaign.id}/dossier", headers=headers("qualite"),
                           json={"framework_ids": [99999], "site_ids": [88888]})
    assert response.status_code == 400
    assert response.json["errors"] == [
        "Le référentiel 99999 n’est pas suivi par cette campagne.",
        "Le site 88888 n’est pas un site de l’école.",
    ]


def test_a_body_that_is_not_an_object_is_refused(client, headers, campaign):
    response = client.post(f"/api/v1/campaigns/{campaign.id}/dossier", headers=headers("qualite"),
                           data="[]", content_type="application/json")
    assert response.status_code == 400 and "objet JSON" in response.json["error"]


def test_auditor_follows_jobs_but_cannot_start_one(app, client, headers, campaign):
    auditor = headers("auditeur")
    refused = client.post(f"/api/v1/campaigns/{campaign.id}/dossier", headers=auditor, json={})
    assert refused.status_code == 403
    build = DossierBuild(campaign_id=campaign.id, options={"as_of": "2018-04-10"},
                         created_by_id=user("direction").id)
    db.session.add(build)
    db.session.commit()
    jobs.execute(db.session(), app, DOSSIER_BUILD, build.id)
    job = client.get(f"/api/v1/jobs/{build.id}", headers=auditor).json
    assert job["status"] == "done" and job["created_by"] == user("direction").full_name
    assert client.get(job["pdf_url"], headers=auditor).status_code == 200


def test_personal_data_dossier_gives_no_url_and_refuses_the_download(app, client, headers,
                                                                      campaign):
    build = DossierBuild(campaign_id=campaign.id,
                         options={"as_of": "2018-04-10", "include_personal_data": True})
    db.session.add(build)
    db.session.commit()
    jobs.execute(db.session(), app, DOSSIER_BUILD, build.id)
    auditor = headers("auditeur")
    job = client.get(f"/api/v1/jobs/{build.id}", headers=auditor).json
    assert job["status"] == "done" and job["pdf_url"] is None and job["zip_url"] is None
    refused = client.get(f"/api/v1/jobs/{build.id}/dossier.pdf", headers=auditor)
    assert refused.status_code == 403 and "données personnelles" in refused.json["error"]
    director = client.get(f"/api/v1/jobs/{build.id}", headers=headers("direction")).json
    assert director["pdf_url"] == f"/api/v1/jobs/{build.id}/dossier.pdf"


def test_jobs_of_another_school_do_not_exist(app, client, campaign, make_user, token_for):
    build = DossierBuild(campaign_id=campaign.id, options={}, status=BuildStatus.QUEUED,
                         runner=jobs.inprocess_runner_id())
    db.session.add(build)
    db.session.commit()
    stranger = token_for(make_user(Role.DIRECTOR))  # director of another school
    assert client.get(f"/api/v1/jobs/{build.id}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/jobs/{build.id}/dossier.pdf", headers=stranger).status_code == 404
    started = client.post(f"/api/v1/campaigns/{campaign.id}/dossier", headers=stranger, json={})
    assert started.status_code == 404


def test_unfinished_job_has_no_file_yet(client, headers, campaign):
    build = DossierBuild(campaign_id=campaign.id, options={}, status=BuildStatus.RUNNING,
                         progress=12, runner=jobs.inprocess_runner_id())
    db.session.add(build)
    db.session.commit()
    director = headers("direction")
    job = client.get(f"/api/v1/jobs/{build.id}", headers=director).json
    assert job["status"] == "running" and job["progress"] == 12 and job["pdf_url"] is None
    missing = client.get(f"/api/v1/jobs/{build.id}/dossier.pdf", headers=director)
    assert missing.status_code == 404 and "pas encore" in missing.json["error"]


def test_queue_unreachable_answers_503_in_french(app, client, headers, campaign):
    app.config.update(DOSSIER_QUEUE="rq", REDIS_URL="redis://127.0.0.1:1/0")
    response = client.post(f"/api/v1/campaigns/{campaign.id}/dossier",
                           headers=headers("direction"), json={})
    assert response.status_code == 503
    assert "mise en file d’attente" in response.json["error"]
    job = db.session.query(DossierBuild).one()
    assert job.status is BuildStatus.FAILED
