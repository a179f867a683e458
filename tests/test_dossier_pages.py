"""Dossier pages: the options form, the build list ("what did we send?"), the progress page and
its JSON, downloads and who may have them."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from audit_tracker import jobs
from audit_tracker.clock import local_today
from audit_tracker.dossier.builds import DOSSIER_BUILD
from audit_tracker.extensions import db
from audit_tracker.models import BuildStatus, DossierBuild
from audit_tracker.readiness.rules import default_reference_date

from .test_dossier_jobs import demo_campaign, linked_proof, user, wait_until_finished  # noqa: F401 (fixture)


@pytest.fixture
def campaign(demo_today):
    return demo_campaign()


@pytest.fixture(autouse=True)
def _stop_runner(app):
    yield
    jobs.shutdown(app)


def _url(campaign, tail: str = "") -> str:
    return f"/campagnes/{campaign.id}/dossier{tail}"


def _done_build(app, campaign, author, *, options=None, with_zip=True) -> DossierBuild:
    """A finished build made for real, synchronously (the runner's own function)."""
    build = DossierBuild(campaign_id=campaign.id, created_by_id=author.id,
                         options={"as_of": "2018-04-10", "with_zip": with_zip, **(options or {})})
    db.session.add(build)
    db.session.commit()
    build = jobs.execute(db.session(), app, DOSSIER_BUILD, build.id)
    assert build.status is BuildStatus.DONE, build.error
    return build


def test_campaign_page_links_to_the_dossier(client, auth, demo_today, campaign):
    auth.login_demo(demo_today, "auditeur")
    page = client.get(f"/campagnes/{campaign.id}").get_data(as_text=True)
    assert f'href="{_url(campaign)}"' in page


def test_form_offers_the_campaign_choices_and_the_next_audit_as_reference(client, auth,
                                                                         demo_today, campaign):
    auth.login_demo(demo_today, "direction")
    response = client.get(_url(campaign, "/nouveau"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    expected = default_reference_date(campaign, local_today())
    assert f'value="{expected.isoformat()}"' in page
    for framework in campaign.frameworks:
        assert framework.label in page
    for site in campaign.school.sites:
        assert site.name in page
    assert "données personnelles" in page and "seuls la direction et le responsable qualité" in page


def test_director_starts_a_build_and_follows_it_to_the_download(app, client, auth, demo_today,
                                                                campaign, linked_proof):  # noqa: F811
    auth.login_demo(demo_today, "direction")
    tpm = next(s for s in campaign.school.sites if s.code == "tpm")
    response = client.post(_url(campaign, "/nouveau"), data={
        "framework_ids": [campaign.frameworks[0].id],
        "site_ids": [tpm.id],
        "as_of": "2018-04-10",
        "with_annexes": "y",
        "with_zip": "y",
    })
    assert response.status_code == 302
    build_id = int(re.search(r"/dossier/(\d+)$", response.location).group(1))
    status = client.get(_url(campaign, f"/{build_id}/etat"))
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    assert status.json["status"] in {"queued", "running", "done"}
    assert 0 <= status.json["progress"] <= 100

    build = wait_until_finished(build_id)
    assert build.status is BuildStatus.DONE, build.error
    assert build.options["framework_ids"] == [campaign.frameworks[0].id]
    assert build.options["site_ids"] == [tpm.id] and build.options["as_of"] == "2018-04-10"

    done = client.get(_url(campaign, f"/{build_id}/etat")).json
    assert done["status"] == "done" and done["progress"] == 100 and done["error"] is None
    assert done["pdf_url"] == _url(campaign, f"/{build_id}/dossier.pdf")
    assert done["zip_url"] == _url(campaign, f"/{build_id}/dossier.zip")
    page = client.get(_url(campaign, f"/{build_id}")).get_data(as_text=True)
    assert build.sha256 in page and 'data-testid="download-pdf"' in page

    download = client.get(done["pdf_url"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    assert hashlib.sha256(download.data).hexdigest() == build.sha256
    assert len(PdfReader(io.BytesIO(download.data)).pages) == build.page_count
    archive = client.get(done["zip_url"])
    assert archive.mimetype == "application/zip"
    assert hashlib.sha256(archive.data).hexdigest() == build.zip_sha256


def test_build_list_says_when_who_what_size_and_hash(app, client, auth, demo_today, campaign):
    quality_lead = user("qualite")
    build = _done_build(app, campaign, quality_lead,
                        options={"with_annexes": False, "include_personal_data": True})
    auth.login_demo(demo_today, "direction")
    page = client.get(_url(campaign)).get_data(as_text=True)
    row = page[page.index(f'data-build-id="{build.id}"'):]
    row = row[: row.index("</tr>")]
    assert quality_lead.full_name in row
    assert "sans annexes" in row and "données personnelles incluses" in row
    assert "référence au 10 avril 2018" in row and "tous les sites" in row
    assert build.sha256[:16] in row and f'title="{build.sha256}"' in row
    assert "Terminé" in row and "dossier.pdf" in row and "dossier.zip" in row


def test_invalid_options_are_refused_with_french_messages_and_nothing_is_built(
        client, auth, demo_today, campaign):
    auth.login_demo(demo_today, "qualite")
    response = client.post(_url(campaign, "/nouveau"), data={
        "site_ids": ["99999"], "as_of": "2018-04-10"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Le site 99999 n’est pas un site de l’école." in page
    several = client.post(_url(campaign, "/nouveau"), data={
        "framework_ids": ["77777"], "section_ids": ["abc"], "as_of": "2018-04-10"})
    page = several.get_data(as_text=True)
    assert several.status_code == 400
    assert "Le référentiel 77777 n’est pas suivi par cette campagne." in page
    assert "La section 0 n’appartient à aucun référentiel retenu." in page
    missing_date = client.post(_url(campaign, "/nouveau"), data={"as_of": ""})
    assert missing_date.status_code == 400
    assert "Indiquez la date de référence" in missing_date.get_data(as_text=True)
    assert db.session.scalar(select(DossierBuild)) is None


def test_auditor_may_read_and_download_but_not_build(app, client, auth, demo_today, campaign):
    build = _done_build(app, campaign, user("direction"))
    auth.login_demo(demo_today, "auditeur")
    assert client.get(_url(campaign, "/nouveau")).status_code == 403
    assert client.post(_url(campaign, "/nouveau"), data={"as_of": "2018-04-10"}).status_code == 403
    page = client.get(_url(campaign)).get_data(as_text=True)
    assert "Construire un dossier" not in page
    download = client.get(_url(campaign, f"/{build.id}/dossier.pdf"))
    assert download.status_code == 200
    assert hashlib.sha256(download.data).hexdigest() == build.sha256


def test_a_dossier_with_personal_data_is_for_direction_and_quality_only(app, client, auth,
                                                                        demo_today, campaign):
    build = _done_build(app, campaign, user("direction"), options={"include_personal_data": True})
    pdf = _url(campaign, f"/{build.id}/dossier.pdf")
    auth.login_demo(demo_today, "auditeur")
    refused = client.get(pdf)
    assert refused.status_code == 403
    assert "données personnelles" in refused.get_data(as_text=True)
    assert client.get(_url(campaign, f"/{build.id}/etat")).json["pdf_url"] is None
    auth.logout()
    auth.login_demo(demo_today, "qualite")
    assert client.get(pdf).status_code == 200


def test_site_manager_downloads_only_dossiers_of_their_own_site(app, client, auth, demo_today,
                                                                campaign):
    tpm = next(s for s in campaign.school.sites if s.code == "tpm")
    whole = _done_build(app, campaign, user("direction"), with_zip=False)
    own = _done_build(app, campaign, user("direction"), options={"site_ids": [tpm.id]},
                      with_zip=False)
    auth.login_demo(demo_today, "tpm")
    refused = client.get(_url(campaign, f"/{whole.id}/dossier.pdf"))
    assert refused.status_code == 403 and "autres sites" in refused.get_data(as_text=True)
    assert client.get(_url(campaign, f"/{own.id}/dossier.pdf")).status_code == 200
    # No ZIP was asked for: there is none to download.
    assert client.get(_url(campaign, f"/{own.id}/dossier.zip")).status_code == 404


def test_unfinished_or_foreign_builds_are_not_downloadable(app, client, auth, demo_today,
                                                          campaign):
    running = DossierBuild(campaign_id=campaign.id, options={}, status=BuildStatus.RUNNING,
                           progress=40, step="Mise en page du dossier",
                           runner=jobs.inprocess_runner_id())
    db.session.add(running)
    db.session.commit()
    auth.login_demo(demo_today, "direction")
    assert client.get(_url(campaign, f"/{running.id}/dossier.pdf")).status_code == 404
    state = client.get(_url(campaign, f"/{running.id}/etat")).json
    assert state["status"] == "running" and state["progress"] == 40
    assert state["step"] == "Mise en page du dossier" and state["pdf_url"] is None
    page = client.get(_url(campaign, f"/{running.id}")).get_data(as_text=True)
    assert 'data-status="running"' in page and "dossier.js" in page
    assert client.get(f"/campagnes/{campaign.id + 1000}/dossier/{running.id}").status_code == 404


def test_progress_page_shows_the_french_error_of_a_lost_build(app, client, auth, demo_today,
                                                              campaign):
    lost = DossierBuild(campaign_id=campaign.id, options={}, status=BuildStatus.RUNNING,
                        runner=f"{jobs.inprocess_runner_id()}-mort")
    db.session.add(lost)
    db.session.commit()
    auth.login_demo(demo_today, "auditeur")
    page = client.get(_url(campaign, f"/{lost.id}")).get_data(as_text=True)
    assert 'data-testid="dossier-error"' in page and "a redémarré" in page
