"""The two editions of the dossier, read back with pypdf and pdftotext: what the school sends
holds its argument and validated pièces and nothing of the internal review; the internal review
keeps every state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from audit_tracker.clock import local_today
from audit_tracker.demo_story import load_demo_story
from audit_tracker.dossier import DossierOptions, build_dossier
from audit_tracker.dossier.options import DossierOptionsError, Edition
from audit_tracker.extensions import db
from audit_tracker.models import Campaign, Evidence, ReviewStatus
from audit_tracker.storage import upload_tmp_dir

from .test_dossier_pdf import pdftotext

SENT_NEVER = ("preuve manquante", "à valider", "conforme", "brouillon")


@pytest.fixture
def story(app, demo_today, storage):
    load_demo_story(db.session, storage, upload_tmp_dir(app), today=local_today())
    return db.session.scalar(select(Campaign))


def build(campaign: Campaign, edition: Edition, path: Path) -> Path:
    build_dossier(db.session, campaign, DossierOptions(edition=edition), path)
    return path


def text_of(path: Path) -> str:
    """pdftotext's text with its line breaks and hyphen-free wraps joined, lower-cased."""
    return re.sub(r"\s+", " ", pdftotext(path)).lower()


def test_the_sent_edition_holds_no_internal_state_and_no_draft(story, tmp_path):
    sent = text_of(build(story, Edition.SCHOOL, tmp_path / "ecole.pdf"))
    for word in SENT_NEVER:
        assert word not in sent, word
    drafts = db.session.scalars(select(Evidence).where(
        Evidence.status.in_([ReviewStatus.DRAFT, ReviewStatus.TO_REVIEW])))
    for proof in drafts:
        assert proof.title.lower()[:40] not in sent, proof.title
    # The matrix: a validated pièce under its criterion, with the school's argument.
    assert "tableau de bord des entrées et sorties" in sent
    assert "empreinte vérifiée" in sent
    # A criterion without any pièce is listed once, at the end, with its argument (D1's
    # pièces are a paper proof awaiting validation and a draft: none goes out).
    assert "critères sans pièce jointe" in sent
    assert sent.count("la relation avec les entreprises est formalisée") == 1
    assert "dossier de l’école" in sent


def test_the_internal_review_keeps_every_state(story, tmp_path):
    internal = text_of(build(story, Edition.INTERNAL, tmp_path / "interne.pdf"))
    assert "preuve manquante" in internal and "à valider" in internal
    assert "revue interne" in internal
    assert "critères sans pièce jointe" not in internal
    assert "compte rendu du comité opérationnel local cavem" in internal


def test_the_sent_edition_counts_validated_pieces_only(story, tmp_path):
    sent = build(story, Edition.SCHOOL, tmp_path / "ecole.pdf")
    internal = build(story, Edition.INTERNAL, tmp_path / "interne.pdf")
    validated = db.session.scalars(select(Evidence).where(
        Evidence.status == ReviewStatus.VALIDATED, Evidence.personal_data.is_(False)))
    cover = PdfReader(sent).pages[0].extract_text()
    assert re.search(rf"Pièces\s+{len(list(validated))}\b", cover), cover
    assert len(PdfReader(sent).pages) < len(PdfReader(internal).pages)


def test_an_unknown_edition_is_refused_in_french():
    with pytest.raises(DossierOptionsError) as refused:
        DossierOptions.from_json({"edition": "brouillon"})
    assert "Édition inconnue" in refused.value.messages[0]
    assert DossierOptions.from_json({"edition": "ecole"}).edition is Edition.SCHOOL


def test_the_command_line_builds_the_sent_edition(story, runner, tmp_path):
    pdf = tmp_path / "ecole.pdf"
    result = runner.invoke(args=["dossier", "build", str(story.id), "--output", str(pdf),
                                 "--edition", "ecole", "--sans-annexes"])
    assert result.exit_code == 0, result.output
    assert "dossier de l’école" in text_of(pdf)
    refused = runner.invoke(args=["dossier", "build", str(story.id), "--output", str(pdf),
                                  "--edition", "autre"])
    assert refused.exit_code != 0


def test_the_api_records_the_edition_and_refuses_an_unknown_one(client, token_for, story):
    from audit_tracker import jobs
    from audit_tracker.models import User

    director = token_for(db.session.scalar(select(User).where(
        User.email == "direction@e2c-var.example")))
    url = f"/api/v1/campaigns/{story.id}/dossier"
    refused = client.post(url, headers=director, json={"edition": "brouillon"})
    assert refused.status_code == 400 and "Édition inconnue" in refused.json["errors"][0]
    started = client.post(url, headers=director, json={"edition": "ecole",
                                                       "with_annexes": False})
    assert started.status_code == 202
    from .test_dossier_jobs import wait_until_finished

    wait_until_finished(started.json["job_id"])
    job = client.get(started.headers["Location"], headers=director).json
    assert job["status"] == "done", job["error"]
    assert job["options"]["edition"] == "ecole"
    jobs.shutdown(client.application)


def test_the_page_offers_the_sent_edition_first(client, auth, demo_today, story):
    auth.login_demo(demo_today, "qualite")
    page = client.get(f"/campagnes/{story.id}/dossier/nouveau").get_data(as_text=True)
    checked = re.search(r'<input[^>]*checked[^>]*value="(\w+)"|<input[^>]*value="(\w+)"[^>]*'
                        r'checked', page)
    assert checked and "ecole" in checked.groups()
    assert "Revue interne" in page
