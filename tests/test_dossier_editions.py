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


def afnor_findings(campaign: Campaign) -> list:
    """Two findings of the AFNOR audit with the school's answer, one action closed by the
    organigramme proof: as if the report had come back."""
    from datetime import timedelta

    from audit_tracker.findings import service as findings
    from audit_tracker.models import ActionStatus, Criterion, MilestoneKind, User

    audit = next(m for m in campaign.milestones if m.kind is MilestoneKind.INITIAL_AUDIT)
    quality = db.session.scalar(select(User).where(User.email == "qualite@e2c-var.example"))
    e2c = next(f for f in campaign.frameworks if f.code == "e2c-label")
    a2 = db.session.scalar(select(Criterion).where(Criterion.framework_id == e2c.id,
                                                   Criterion.code == "A2"))
    organigramme = db.session.scalar(select(Evidence).where(
        Evidence.title.like("Organigramme%")))
    made = []
    for type_code, title, answer in [
        ("nc_mineure", "Comptes rendus des comités locaux incomplets",
         "Un modèle de compte rendu commun aux **quatre sites** est en usage depuis mai."),
        ("point_sensible", "Part de stagiaires issus des QPV sous la cible",
         "Les relais de quartier recrutent désormais sur les quatre sites."),
    ]:
        made.append(findings.create_finding(db.session, audit, quality, findings.FindingInput(
            framework=e2c, type_code=type_code, title=title, response=answer, criteria=[a2])))
    action = findings.create_action(db.session, campaign, quality, findings.ActionInput(
        title="Diffuser un modèle de compte rendu commun", owner=quality,
        due_on=audit.starts_on + timedelta(days=60), findings=[made[0]],
        closing_evidence=organigramme))
    findings.set_action_status(db.session, action, ActionStatus.DONE, quality,
                               today=local_today())
    db.session.commit()
    return made


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


def test_the_sent_edition_presents_the_school_and_its_complete_key_figures(story, tmp_path):
    pdf = build(story, Edition.SCHOOL, tmp_path / "ecole.pdf")
    sent = text_of(pdf)
    assert "présentation de l’école" in sent
    assert "cette formation est cofinancée par l’union européenne, l’état et la région" in sent
    for site in ("site tpm", "site cavem", "site provence verte", "site dracénie"):
        assert site in sent
    assert "comité stratégique" in sent and "cluster provence rosé" in sent
    assert re.search(r"organigramme pièce \d+", sent)
    # The note's table, complete: 252 entries, 40 from the QPV (16 %), 236 companies,
    # 30 positive exits of 65 = 15 formation + 10 emploi + 5 alternance.
    figures = re.sub(r"\s+", " ", pdftotext(pdf, layout=True)).lower()
    total = re.search(r"total (\d+) ([\d,]+) (\d+) \((\d+) %\) (\d+) \((\d+) %\) (\d+)",
                      figures)
    assert total, figures[:3000]
    assert (total[1], total[3], total[4], total[7]) == ("252", "40", "16", "236")
    exits = re.search(r"total (\d+) (\d+) \((\d+) %\) (\d+) (\d+) (\d+)", figures)
    assert exits and exits.groups() == ("65", "30", "46", "15", "10", "5")
    assert "cibles et écarts" in sent and "−24 pts" in sent  # QPV 16 % against 40 %


def test_governance_lists_meetings_held_with_their_minutes(story, tmp_path):
    from datetime import timedelta

    from audit_tracker.models import Meeting, MeetingKind

    story.meetings.append(Meeting(kind=MeetingKind.OTHER, title="Réunion sans compte rendu",
                                  held_on=local_today() - timedelta(days=3)))
    db.session.commit()
    sent = text_of(build(story, Edition.SCHOOL, tmp_path / "ecole.pdf"))
    internal = text_of(build(story, Edition.INTERNAL, tmp_path / "interne.pdf"))
    minutes = "relevé de décisions de la commission de suivi des stagiaires tpm"
    assert "gouvernance" in sent and "réunion sans compte rendu" in sent
    layout = pdftotext(tmp_path / "ecole.pdf", layout=True)
    line = next(li for li in layout.splitlines() if "stagiaires – TPM" in li)
    assert re.search(r"pièce \d+\s*$", line), line
    assert minutes in sent  # its annex, after the separator page
    assert "sans compte rendu dans ce dossier" not in sent
    assert "1 instance réunie n’a pas de compte rendu dans ce dossier" in internal


def test_the_sent_edition_answers_each_afnor_finding(story, tmp_path):
    made = afnor_findings(story)
    sent = text_of(build(story, Edition.SCHOOL, tmp_path / "ecole.pdf"))
    assert "réponse au rapport d’audit" in sent
    for finding in made:
        assert finding.title.lower() in sent
        assert re.sub(r"\*", "", finding.response).lower() in sent
    assert re.search(r"diffuser un modèle de compte rendu commun .*réalisée pièce \d+", sent)


def test_the_grid_gives_each_criterion_its_level_then_the_detail(story, tmp_path):
    pdf = build(story, Edition.SCHOOL, tmp_path / "ecole.pdf")
    sent = text_of(pdf)
    assert "grille d’auto-évaluation" in sent
    assert "échelle : à engager < en cours de déploiement < en place, à consolider < maîtrisé" \
        in sent
    layout = pdftotext(pdf, layout=True)
    line = next(li for li in layout.splitlines() if "A3 – Moyens dédiés" in li)
    assert "Maîtrisé et démontré" in line
    # The detail follows: A3, without a validated pièce, is in the table closing the matrix.
    detail = layout[layout.index("Critères sans pièce jointe"):]
    line = next(li for li in detail.splitlines() if "A3 – Moyens dédiés" in li)
    assert "Maîtrisé et" in line
    assert "non évalué" in sent


def test_a_level_outside_the_frameworks_scale_is_refused(story):
    from audit_tracker.models import Criterion, User
    from audit_tracker.readiness.decisions import DecisionError, save_decision

    e2c = next(f for f in story.frameworks if f.code == "e2c-label")
    assert [lv["code"] for lv in e2c.self_assessment_scale] == [
        "a_engager", "en_cours", "en_place", "maitrise"]
    b1 = db.session.scalar(select(Criterion).where(Criterion.framework_id == e2c.id,
                                                   Criterion.code == "B1"))
    quality = db.session.scalar(select(User).where(User.email == "qualite@e2c-var.example"))
    with pytest.raises(DecisionError):
        save_decision(db.session, story, b1, quality, argument="", applicable=True, reason="",
                      seen_lock_version=None, self_assessment="conforme")
    saved = save_decision(db.session, story, b1, quality, argument="", applicable=True,
                          reason="", seen_lock_version=None, self_assessment="en_cours")
    assert saved.self_assessment == "en_cours"


def test_the_scale_is_data_checked_on_import():
    from audit_tracker.referentiel.importer import ImportRefused, parse_yaml

    text = (Path(__file__).resolve().parent.parent / "audit_tracker" / "referentiel" / "data"
            / "e2c-label.yaml").read_text(encoding="utf-8")
    assert len(parse_yaml(text).self_assessment_scale) == 4
    doubled = text.replace("  - {code: a_engager", "  - {code: maitrise", 1)
    with pytest.raises(ImportRefused) as refused:
        parse_yaml(doubled)
    assert "en double" in str(refused.value)


@pytest.mark.parametrize("edition", list(Edition))
def test_every_merged_page_is_stamped_and_the_contents_fit_two_pages(story, tmp_path, edition):
    from .test_dossier_pdf import outline_titles

    pdf = build(story, edition, tmp_path / f"{edition.value}.pdf")
    pages = [page.extract_text() or "" for page in PdfReader(pdf).pages]
    total = len(pages)
    stamped = 0
    for number, text in enumerate(pages, start=1):
        footer = f"page {number} / {total}" in text
        stamp = re.search(r"Pièce (\d+) – p\. (\d+)/(\d+) · dossier p\. (\d+) / (\d+)", text)
        assert footer != bool(stamp), (number, text[-200:])  # generated, or merged and stamped
        if stamp:
            stamped += 1
            assert (int(stamp[4]), int(stamp[5])) == (number, total)
            assert int(stamp[2]) <= int(stamp[3])
    assert stamped >= 4
    marks = {title: page for _depth, title, page in outline_titles(pdf)}
    assert marks["Présentation de l’école"] - marks["Sommaire"] <= 2
    toc = _toc_lines(pdf, marks)
    assert not any(title.startswith(("Critère ", "Indicateur ")) for title in toc)


def _toc_lines(pdf: Path, marks: dict[str, int]) -> list[str]:
    """The contents' lines: the pages from « Sommaire » to the first section."""
    text = pdftotext(pdf, marks["Sommaire"], marks["Présentation de l’école"] - 1)
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_the_criterion_page_saves_the_level_and_readers_see_it(client, auth, demo_today, story):
    from audit_tracker.models import CampaignCriterion, Criterion

    e2c = next(f for f in story.frameworks if f.code == "e2c-label")
    b1 = db.session.scalar(select(Criterion).where(Criterion.framework_id == e2c.id,
                                                   Criterion.code == "B1"))
    url = f"/campagnes/{story.id}/preparation/criteres/{b1.id}"
    auth.login_demo(demo_today, "qualite")
    page = client.get(url).get_data(as_text=True)
    assert "Maîtrisé et démontré" in page  # the scale's levels are the choices
    response = client.post(url, data={"argument": "Entrées suivies chaque mois.",
                                      "applicable": "y", "self_assessment": "en_place"})
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.scalar(select(CampaignCriterion).where(
        CampaignCriterion.criterion_id == b1.id))
    assert saved.self_assessment == "en_place"
    refused = client.post(url, data={"argument": "", "applicable": "y",
                                     "self_assessment": "conforme"})
    assert refused.status_code == 400
    auth.logout()
    auth.login_demo(demo_today, "auditeur")
    assert "Auto-évaluation : En place, à consolider" in client.get(url).get_data(as_text=True)
