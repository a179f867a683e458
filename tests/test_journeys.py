"""The two daily journeys (issue 13): a criterion's page as the workspace (upload, link, paper,
picker), the duplicate upload, claims (a link added to a validated proof is « à confirmer »),
the validation queue with four-eyes review, and the director's and quality lead's homes."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from audit_tracker.clock import local_today
from audit_tracker.demo_story import load_demo_story
from audit_tracker.evidence.service import (
    DuplicateFile,
    EvidenceError,
    FourEyes,
    decide_claim,
    link_criterion,
    review,
    submit_for_review,
)
from audit_tracker.extensions import db
from audit_tracker.models import (
    Campaign,
    ClaimStatus,
    Criterion,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    Framework,
    ReviewStatus,
    Role,
    School,
    User,
)
from audit_tracker.readiness.rules import State, readiness_of
from audit_tracker.storage import upload_tmp_dir

from .conftest import UPLOADS


@pytest.fixture
def story(app, demo_today, storage):
    load_demo_story(db.session, storage, upload_tmp_dir(app), today=local_today())
    return demo_today


def campaign() -> Campaign:
    return db.session.scalar(select(Campaign).limit(1))


def criterion(code: str, framework: str = "e2c-label") -> Criterion:
    return db.session.scalar(select(Criterion).join(Framework).where(
        Framework.code == framework, Criterion.code == code))


def user(local_part: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{local_part}@e2c-var.example"))


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def csrf(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def criterion_url(c: Criterion) -> str:
    return f"/campagnes/{campaign().id}/preparation/criteres/{c.id}"


def state_of(c: Criterion) -> State:
    return readiness_of(db.session, campaign(), local_today()).of(c.id).state


# --------------------------------------------------------------------- the criterion's page


def test_a3_missing_proof_page_offers_the_workspace(client, auth, story):
    auth.login_demo(story, "qualite")
    a3 = criterion("A3")
    assert state_of(a3) is State.MISSING
    page = text_of(client.get(criterion_url(a3)))
    assert 'id="ajouter-preuve"' in page
    assert "Enregistrer et lier au critère A3" in page
    assert 'id="picker-form"' in page
    dashboard = text_of(client.get(f"/campagnes/{campaign().id}/preparation"))
    assert f'{criterion_url(a3)}#ajouter-preuve' in dashboard


def test_upload_from_the_criterion_page_links_submits_and_comes_back(client, auth, story):
    auth.login_demo(story, "qualite")
    a3 = criterion("A3")
    back = criterion_url(a3)
    token = csrf(client, back)
    response = client.post("/preuves/nouvelle", data={
        "csrf_token": token, "kind": "fichier", "site_id": "0", "criterion_id": str(a3.id),
        "note": "Planning des entretiens", "next": back,
        "file": (io.BytesIO((UPLOADS / "preuve.pdf").read_bytes()), "planning.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"] == back
    evidence = db.session.scalar(select(Evidence).where(Evidence.title == "planning"))
    assert evidence.status is ReviewStatus.TO_REVIEW
    assert [(link.criterion_id, link.note) for link in evidence.links] == [
        (a3.id, "Planning des entretiens")]
    assert state_of(a3) is State.TO_VALIDATE
    landed = text_of(client.get(back))
    assert ("Preuve « planning » enregistrée, liée au critère A3 et envoyée à la validation."
            in landed)


def test_upload_in_fetch_mode_answers_json_and_flashes_for_the_landing(client, auth, story):
    auth.login_demo(story, "qualite")
    a3 = criterion("A3")
    token = csrf(client, criterion_url(a3))
    response = client.post("/preuves/nouvelle", headers={"X-Requested-With": "fetch"}, data={
        "csrf_token": token, "kind": "fichier", "site_id": "0", "criterion_id": str(a3.id),
        "next": criterion_url(a3),
        "file": (io.BytesIO(b"Liste des entretiens\n"), "entretiens.txt"),
    }, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    assert "envoyée à la validation" in text_of(client.get(criterion_url(a3)))


def test_link_and_paper_proofs_from_the_criterion_page(client, auth, story):
    auth.login_demo(story, "qualite")
    a3 = criterion("A3")
    back = criterion_url(a3)
    token = csrf(client, back)
    for data in ({"kind": "lien", "title": "Charte en ligne", "url": "https://e2c.example/c"},
                 {"kind": "papier", "title": "Registre", "paper_location": "Bureau TPM"}):
        response = client.post("/preuves/nouvelle", data={
            "csrf_token": token, "site_id": "0", "criterion_id": str(a3.id), "next": back,
            **data})
        assert response.status_code == 302 and response.headers["Location"] == back
    kinds = {e.kind for e in db.session.scalars(
        select(Evidence).join(EvidenceLink).where(EvidenceLink.criterion_id == a3.id))}
    assert kinds == {EvidenceKind.LINK, EvidenceKind.PAPER}


def test_a_foreign_next_or_criterion_is_refused(client, auth, story):
    auth.login_demo(story, "qualite")
    token = csrf(client, "/preuves/nouvelle")
    response = client.post("/preuves/nouvelle", data={
        "csrf_token": token, "kind": "lien", "title": "X", "url": "https://e2c.example/x",
        "site_id": "0", "criterion_id": "999999", "next": "//evil.example/"})
    assert response.status_code == 200
    assert "Choisissez un critère des référentiels de vos campagnes." in text_of(response)
    assert db.session.scalar(select(Evidence).where(Evidence.title == "X")) is None


def test_picker_finds_by_title_text_and_code_json_and_without_js(client, auth, story):
    auth.login_demo(story, "qualite")
    a3 = criterion("A3")
    linked = db.session.scalar(select(EvidenceLink).join(Criterion).where(
        Criterion.code == "A1"))
    assert linked is not None
    by_code = client.get("/preuves/choisir?q=A1").get_json()["results"]
    assert linked.evidence_id in {r["id"] for r in by_code}
    word = linked.evidence.title.split()[0]
    by_title = client.get(f"/preuves/choisir?q={word}&critere={a3.id}").get_json()["results"]
    assert any(r["id"] == linked.evidence_id and not r["linked"] for r in by_title)
    assert client.get("/preuves/choisir?q=").get_json() == {"results": []}
    page = text_of(client.get(criterion_url(a3) + f"?chercher={word}"))
    assert linked.evidence.title in page
    assert f'action="/preuves/{linked.evidence_id}/criteres"' in page
    # « Lier » from the results: one POST, back to the criterion page, linked.
    token = csrf(client, criterion_url(a3))
    response = client.post(f"/preuves/{linked.evidence_id}/criteres", data={
        "csrf_token": token, "criterion_id": str(a3.id), "note": "", "next": criterion_url(a3)})
    assert response.headers["Location"] == criterion_url(a3)
    assert state_of(a3) is not State.MISSING


# ----------------------------------------------------------------------------- duplicates


def test_duplicate_upload_is_refused_and_names_the_existing_proof(
        app, make_user, make_evidence, receive, storage):
    author = make_user(Role.QUALITY_LEAD)
    first = make_evidence(author, title="Compte rendu")
    from audit_tracker.evidence.service import EvidenceFields, create_evidence

    with pytest.raises(DuplicateFile) as caught:
        create_evidence(db.session, storage, school=author.school, author=author,
                        fields=EvidenceFields(title="Copie"),
                        upload=receive("copie.pdf", fixture="preuve.pdf"),
                        refuse_duplicate=True)
    assert caught.value.existing.id == first.id
    assert "Compte rendu" in str(caught.value)
    db.session.rollback()
    assert db.session.scalar(select(Evidence).where(Evidence.title == "Copie")) is None
    assert list(upload_tmp_dir(app).glob("upload-*")) == []
    # Another school's identical file is no duplicate of ours.
    other = make_user(Role.QUALITY_LEAD, school=School(name="Autre", short_name="Autre"))
    make_evidence(other, title="Sa copie")
    assert db.session.scalar(select(Evidence).where(Evidence.title == "Sa copie")) is not None


def test_duplicate_upload_page_offers_link_or_new_version(client, auth, story):
    auth.login_demo(story, "qualite")
    a3 = criterion("A3")
    existing = db.session.scalar(select(Evidence).where(Evidence.kind == EvidenceKind.FILE)
                                 .order_by(Evidence.id).limit(1))
    data = existing.current_version and existing.current_version
    from audit_tracker.storage import EVIDENCE, storage_for
    payload = b"".join(storage_for(client.application, EVIDENCE).open_chunks(data.storage_key))
    token = csrf(client, criterion_url(a3))
    count = db.session.query(Evidence).count()
    fields = {"csrf_token": token, "kind": "fichier", "site_id": "0",
              "criterion_id": str(a3.id), "next": criterion_url(a3)}
    response = client.post("/preuves/nouvelle", data={
        **fields, "file": (io.BytesIO(payload), "encore.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 409
    page = text_of(response)
    assert "Ce fichier est déjà dans la bibliothèque" in page and existing.title in page
    assert f'action="/preuves/{existing.id}/criteres"' in page
    assert f'action="/preuves/{existing.id}/versions"' in page
    as_json = client.post("/preuves/nouvelle", headers={"X-Requested-With": "fetch"}, data={
        **fields, "file": (io.BytesIO(payload), "encore.pdf")}, content_type="multipart/form-data")
    assert as_json.status_code == 409
    assert as_json.get_json()["duplicate"]["id"] == existing.id
    assert as_json.get_json()["duplicate"]["link_url"] == f"/preuves/{existing.id}/criteres"
    db.session.expire_all()
    assert db.session.query(Evidence).count() == count  # nothing duplicated


# ---------------------------------------------------------------------------------- claims


def _validated_proof(author: User, reviewer: User, make_evidence, first: Criterion) -> Evidence:
    evidence = make_evidence(author, title="Règlement intérieur")
    link_criterion(db.session, evidence, first, "", author)
    submit_for_review(db.session, evidence, author)
    review(db.session, evidence, reviewer, ReviewStatus.VALIDATED)
    db.session.commit()
    return evidence


def test_a_link_added_after_validation_is_not_demonstrable_until_confirmed(
        client, auth, story, make_evidence):
    quality, director = user("qualite"), user("direction")
    a3, a1 = criterion("A3"), criterion("A1")
    evidence = _validated_proof(quality, director, make_evidence, a1)
    assert evidence.links[0].status is ClaimStatus.CONFIRMED
    link = link_criterion(db.session, evidence, a3, "aussi", quality)
    db.session.commit()
    assert link.status is ClaimStatus.TO_CONFIRM
    result = readiness_of(db.session, campaign(), local_today()).of(a3.id)
    assert result.state is State.TO_VALIDATE
    assert any(r.code == "lien_a_confirmer" for r in result.reasons)
    # The one who claimed it may not confirm it (four-eyes in the demo) …
    with pytest.raises(FourEyes):
        decide_claim(db.session, link, quality, confirm=True)
    # … the director may; refusing needs a reason.
    with pytest.raises(EvidenceError, match="pourquoi"):
        decide_claim(db.session, link, director, confirm=False)
    decide_claim(db.session, link, director, confirm=True)
    db.session.commit()
    assert link.confirmed_by_id == director.id and link.confirmed_at is not None
    assert readiness_of(db.session, campaign(), local_today()).of(a3.id).state \
        is State.DEMONSTRABLE


def test_a_refused_claim_does_not_count(story, make_evidence):
    quality, director = user("qualite"), user("direction")
    a3, a1 = criterion("A3"), criterion("A1")
    evidence = _validated_proof(quality, director, make_evidence, a1)
    link = link_criterion(db.session, evidence, a3, "", quality)
    decide_claim(db.session, link, director, confirm=False, reason="Ne parle pas d’A3")
    db.session.commit()
    assert state_of(a3) is State.MISSING
    assert link.refusal_reason == "Ne parle pas d’A3"
    # Nor does the dossier hold it as a pièce of A3.
    from audit_tracker.dossier.collect import select_links

    assert link.id not in {x.id for x in select_links(db.session, campaign(), [a3.id], (), True)}
    assert evidence.links[0].id in {
        x.id for x in select_links(db.session, campaign(), [criterion("A1").id], (), True)}


def test_suggestions_are_buttons_and_their_link_waits_for_confirmation(
        client, auth, story, make_evidence):
    quality, director = user("qualite"), user("direction")
    evidence = _validated_proof(quality, director, make_evidence, criterion("A1"))
    auth.login_demo(story, "qualite")
    page = text_of(client.get(f"/preuves/{evidence.id}"))
    block = page[page.index('data-testid="suggestions"'):]
    block = block[:block.index("</ul>")]
    assert "Lier aussi " in block and 'class="btn btn-outline-primary btn-sm"' in block
    assert "btn-link" not in block
    assert "Le lien sera à confirmer" in block


# --------------------------------------------------------------------- queue and four-eyes


def test_queue_oldest_first_validates_and_opens_the_next(client, auth, story):
    auth.login_demo(story, "direction")
    page = text_of(client.get("/preuves/a-valider"))
    keys = re.findall(r'data-key="([^"]+)"', page)
    assert len(keys) == 1
    listed = re.findall(r"/preuves/a-valider\?element=([\w-]+)", page)
    first = keys[0]
    kind, target = first.split("-")
    token = csrf(client, "/preuves/a-valider")
    response = client.post(f"/preuves/a-valider/{kind}/{target}",
                           data={"csrf_token": token, "decision": "valider"})
    assert response.status_code == 302 and response.headers["Location"] == "/preuves/a-valider"
    db.session.expire_all()
    assert db.session.get(Evidence, int(target)).status is ReviewStatus.VALIDATED
    after = text_of(client.get("/preuves/a-valider"))
    assert re.findall(r'data-key="([^"]+)"', after)[0] != first
    assert "Validée" in after or "validée" in after
    assert listed  # the others are listed beside it


def test_queue_refusal_needs_a_reason_shown_on_the_field(client, auth, story):
    auth.login_demo(story, "direction")
    page = text_of(client.get("/preuves/a-valider"))
    kind, target = re.findall(r'data-key="([^"]+)"', page)[0].split("-")
    token = csrf(client, "/preuves/a-valider")
    response = client.post(f"/preuves/a-valider/{kind}/{target}",
                           data={"csrf_token": token, "decision": "refuser", "reason": " "})
    assert response.status_code == 400
    body = text_of(response)
    assert "Indiquez le motif du refus." in body and 'class="form-control is-invalid"' in body
    assert f'data-key="{kind}-{target}"' in body
    response = client.post(f"/preuves/a-valider/{kind}/{target}", data={
        "csrf_token": token, "decision": "refuser", "reason": "Pas signé"})
    assert response.status_code == 302
    db.session.expire_all()
    evidence = db.session.get(Evidence, int(target))
    assert evidence.status is ReviewStatus.REFUSED and evidence.reviews[-1].reason == "Pas signé"


def test_four_eyes_refuses_a_self_decision_in_french(client, auth, story, make_evidence):
    quality = user("qualite")
    evidence = make_evidence(quality, title="Auto-soumise", fixture="image.png")
    submit_for_review(db.session, evidence, quality)
    db.session.commit()
    auth.login_demo(story, "qualite")
    token = csrf(client, "/preuves/a-valider")
    response = client.post(f"/preuves/a-valider/preuve/{evidence.id}",
                           data={"csrf_token": token, "decision": "valider"})
    assert response.status_code == 403
    assert "Principe des quatre yeux : vous avez soumis cette preuve" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Evidence, evidence.id).status is ReviewStatus.TO_REVIEW
    # Off, the same person may decide.
    quality.school.four_eyes = False
    db.session.commit()
    response = client.post(f"/preuves/a-valider/preuve/{evidence.id}",
                           data={"csrf_token": token, "decision": "valider"})
    assert response.status_code == 302


def test_four_eyes_nobody_decides_on_a_proof_they_created(story, make_evidence):
    quality, director = user("qualite"), user("direction")
    # Validating one's own draft straight away, without submitting it, is a self decision too.
    draft = make_evidence(quality, title="Brouillon de la qualité", fixture="image.png")
    assert draft.status is ReviewStatus.DRAFT and not draft.reviews
    with pytest.raises(FourEyes, match="vous avez créé cette preuve"):
        review(db.session, draft, quality, ReviewStatus.VALIDATED)
    with pytest.raises(FourEyes, match="vous avez créé cette preuve"):
        review(db.session, draft, quality, ReviewStatus.REFUSED, "Pas la bonne")
    assert draft.status is ReviewStatus.DRAFT
    # Submitted by someone else, it is still hers: she does not decide; the director does.
    submit_for_review(db.session, draft, director)
    with pytest.raises(FourEyes, match="vous avez créé cette preuve"):
        review(db.session, draft, quality, ReviewStatus.VALIDATED)
    with pytest.raises(FourEyes, match="vous avez soumis cette preuve"):
        review(db.session, draft, director, ReviewStatus.VALIDATED)
    # A third person (a second reviewer) may: here the director's draft, decided by quality.
    other = make_evidence(director, title="Brouillon de la direction", fixture="image.png")
    review(db.session, other, quality, ReviewStatus.VALIDATED)
    db.session.commit()
    assert other.status is ReviewStatus.VALIDATED
    assert [(r.status, r.reviewer_id) for r in other.reviews] == [
        (ReviewStatus.VALIDATED, quality.id)]
    # Off, the creator may decide on her own draft.
    quality.school.four_eyes = False
    review(db.session, draft, quality, ReviewStatus.VALIDATED)
    assert draft.status is ReviewStatus.VALIDATED


def test_queue_is_for_reviewers_only(client, auth, story):
    auth.login_demo(story, "tpm")
    assert client.get("/preuves/a-valider").status_code == 403


# ---------------------------------------------------------------------------------- homes


def test_director_home_shows_no_go_with_links_that_fix(client, auth, story):
    auth.login_demo(story, "direction")
    page = text_of(client.get("/"))
    assert 'data-testid="verdict-badge">No-go' in page
    assert re.search(r"dans \d+ jours", page)
    assert "des critères démontrables à cette date" in page
    rules = page[page.index('data-testid="rules"'):page.index('data-testid="awaiting"')]
    assert 'data-ok="n"' in rules
    links = re.findall(r'href="([^"]+)"', rules)
    assert any("#ajouter-preuve" in url for url in links)
    assert any("/actions/" in url for url in links)
    for url in links:
        assert client.get(url.split("#")[0]).status_code == 200, url
    assert "Ce qui m’attend" in page and "/preuves/a-valider" in page
    assert "Actions en retard, par responsable" in page


def test_quality_home_is_a_todo_list_of_links(client, auth, story):
    auth.login_demo(story, "qualite")
    page = text_of(client.get("/"))
    for testid in ("todo-indispensable", "todo-refused", "todo-waiting", "todo-actions",
                   "todo-meetings", "todo-expiring"):
        assert f'data-testid="{testid}"' in page
    section = page[page.index('data-testid="todo-actions"'):]
    assert "jours de retard" in section[:3000]
    assert "#ajouter-preuve" in page
    assert client.get("/campagnes").status_code == 200


def test_other_roles_keep_the_campaign_list(client, auth, story):
    auth.login_demo(story, "auditeur")
    assert "Campagnes de labellisation" in text_of(client.get("/"))


def _count(client, url: str) -> int:
    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    client.get(url)
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    assert response.status_code == 200
    return count


def test_home_statement_counts_do_not_grow(client, auth, story, make_evidence):
    quality = user("qualite")

    def counts():
        found = []
        for who in ("direction", "qualite"):
            auth.login_demo(story, who)
            found += [_count(client, "/"), _count(client, "/preuves/a-valider")]
            auth.logout()
        return tuple(found)

    small = counts()
    for i in range(8):
        evidence = make_evidence(quality, title=f"Lot {i}", kind=EvidenceKind.LINK,
                                 url=f"https://e2c.example/{i}",
                                 valid_until=local_today() + timedelta(3))
        link_criterion(db.session, evidence, criterion(f"A{1 + i % 3}"), "", quality)
        submit_for_review(db.session, evidence, quality)
    db.session.commit()
    large = counts()
    assert large == small, (small, large)
    assert max(small) < 60, small


# ------------------------------------------------------------------------------- everyone


def test_campaign_page_reaches_calendar_exports_and_ical(client, auth, story):
    auth.login_demo(story, "tpm")
    the_campaign = campaign()
    page = text_of(client.get(f"/campagnes/{the_campaign.id}"))
    tools = page[page.index('data-testid="campaign-tools"'):]
    tools = tools[:tools.index("</div>")]
    for url in (f"/campagnes/{the_campaign.id}/calendrier", "/compte/calendrier",
                f"/campagnes/{the_campaign.id}/actions/export"):
        assert url in tools, url
    for href in re.findall(r'href="([^"]+)"', tools):
        assert client.get(href).status_code == 200, href


def test_a_point_fort_is_not_open_in_red(client, auth, story):
    auth.login_demo(story, "qualite")
    page = text_of(client.get(criterion_url(criterion("A3"))))
    findings = page[page.index('data-testid="findings"'):]
    findings = findings[:findings.index("</ul>")]
    assert "Point fort" in findings
    assert "Relevé" in findings and "text-bg-danger" not in findings


def test_api_says_a_new_link_on_a_validated_proof_is_to_confirm(client, story, make_evidence,
                                                                token_for):
    quality, director = user("qualite"), user("direction")
    evidence = _validated_proof(quality, director, make_evidence, criterion("A1"))
    response = client.post(f"/api/v1/evidence/{evidence.id}/criteria", headers=token_for(quality),
                           json={"criterion_id": criterion("A3").id})
    assert response.status_code in (200, 201), response.json
    statuses = {link["code"]: link["status"] for link in
                client.get(f"/api/v1/evidence/{evidence.id}",
                           headers=token_for(quality)).json["links"]}
    assert statuses == {"A1": "confirme", "A3": "a_confirmer"}


def test_a_site_manager_opening_another_sites_proof_is_told_why(client, auth, story,
                                                                  make_evidence):
    """Not « page inexistante »: the proof belongs to another site, and who can show it."""
    quality = user("qualite")
    cavem = next(s for s in quality.school.sites if s.code == "cavem")
    proof = make_evidence(quality, title="Émargements CAVEM", site=cavem)
    auth.login_demo(story, "tpm")
    response = client.get(f"/preuves/{proof.id}")
    assert response.status_code == 403
    page = text_of(response)
    assert f"Cette preuve appartient au site {cavem.name}" in page
    assert "inexistante" not in page
    # A proof that does not exist is still a plain 404.
    assert client.get("/preuves/999999").status_code == 404
