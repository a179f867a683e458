"""The audit day on the E2C Var demo at its real dates: the AFNOR audit's programme for 24–26
April 2018 on four sites, the paper proofs at hand per slot, a sample of 12 learners' files
imported pseudonymised, the A4 print one page per day, and the checklist ticked from a phone."""

from __future__ import annotations

import io
import re
from datetime import date, time

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from audit_tracker.demo_story import load_demo_story
from audit_tracker.extensions import db
from audit_tracker.findings.programme import (
    ProgrammeError,
    SampleImportRefused,
    SlotInput,
    add_slot,
    import_samples,
    paper_proofs,
    samples_of,
    slots_of,
)
from audit_tracker.findings.service import FindingError, FindingInput, create_finding
from audit_tracker.models import (
    AuditSlot,
    Campaign,
    Finding,
    Milestone,
    MilestoneKind,
    Role,
    Site,
    User,
)
from audit_tracker.storage import upload_tmp_dir

SAMPLE_HEADER = "identifiant;nom;site;entree;qpv;niveau;sortie;type_sortie\n"


def sample_csv(count: int = 12) -> bytes:
    sites = ["cavem", "dracenie", "provence-verte", "tpm"]
    lines = [f"E2C-{n:03d};Nom{n};{sites[n % 4]};2018-0{1 + n % 3}-15;{'oui' if n % 3 else 'non'};"
             f"infra V;;\n" for n in range(1, count + 1)]
    return (SAMPLE_HEADER + "".join(lines)).encode("utf-8")


@pytest.fixture
def afnor(app, demo, storage) -> Milestone:
    load_demo_story(db.session, storage, upload_tmp_dir(app), today=None)
    campaign = db.session.scalar(select(Campaign))
    return next(m for m in campaign.milestones if m.kind is MilestoneKind.INITIAL_AUDIT)


def site(code: str) -> Site:
    return db.session.scalar(select(Site).where(Site.code == code))


def test_three_days_four_sites_and_the_paper_proofs_at_hand(afnor):
    plan = [(date(2018, 4, 24), "cavem", "Gouvernance et comités locaux", "A2"),
            (date(2018, 4, 24), "dracenie", "Parcours des stagiaires", "C2"),
            (date(2018, 4, 25), "provence-verte", "Recrutement", "B5"),
            (date(2018, 4, 26), "tpm", "Suivi des stagiaires", "F2, E3")]
    for day, code, topic, criteria in plan:
        add_slot(db.session, afnor, SlotInput(day=day, starts_at=time(9), ends_at=time(10, 30),
                                              site=site(code), place="Salle de réunion",
                                              topic=topic, criteria=criteria,
                                              roles=[Role.DIRECTOR, Role.QUALITY_LEAD],
                                              auditor="Auditeur AFNOR"))
    db.session.commit()
    slots = slots_of(db.session, afnor)
    assert [(s.day.day, s.site.code) for s in slots] == [
        (24, "cavem"), (24, "dracenie"), (25, "provence-verte"), (26, "tpm")]
    # The TPM trainee-review attendance sheets are paper, on F2: at hand on the TPM slot.
    tpm_slot = slots[3]
    papers = paper_proofs(db.session, tpm_slot)
    assert papers and all(p.paper_location for p in papers)
    assert any("Commissions de suivi" in p.paper_location for p in papers)
    with pytest.raises(ProgrammeError, match="pendant l’audit"):
        add_slot(db.session, afnor, SlotInput(day=date(2018, 4, 27), starts_at=time(9),
                                              topic="Hors audit"))
    with pytest.raises(ProgrammeError, match="La fin du créneau doit suivre son début"):
        add_slot(db.session, afnor, SlotInput(day=date(2018, 4, 24), starts_at=time(11),
                                              ends_at=time(10), topic="À l’envers"))


def test_a_sample_of_12_files_is_imported_without_the_names(afnor):
    report = import_samples(db.session, afnor, "echantillon.csv", sample_csv(), list(
        db.session.scalars(select(Site))))
    db.session.commit()
    assert (report.created, report.updated) == (12, 0)
    assert report.ignored_columns == ["nom"]
    samples = samples_of(db.session, afnor)
    assert len(samples) == 12
    assert samples[0].reference == "E2C-001" and samples[0].entered_on == date(2018, 2, 15)
    assert samples[0].qpv is True and samples[2].qpv is False
    assert not any("Nom" in value for s in samples
                   for value in (s.reference, s.diploma_level, s.exit_kind))
    again = import_samples(db.session, afnor, "echantillon.csv", sample_csv(3),
                           list(db.session.scalars(select(Site))))
    assert (again.created, again.updated) == (0, 3)


def test_an_xlsx_sample_is_read_and_a_bad_row_refuses_the_file(afnor):
    book = Workbook()
    sheet = book.active
    sheet.append(["identifiant", "site", "entree", "qpv"])
    sheet.append(["E2C-101", "tpm", date(2018, 1, 8), "oui"])
    buffer = io.BytesIO()
    book.save(buffer)
    sites = list(db.session.scalars(select(Site)))
    assert import_samples(db.session, afnor, "e.xlsx", buffer.getvalue(), sites).created == 1
    bad = (SAMPLE_HEADER + "E2C-201;X;nice;2018-13-01;peut-être;;;\n").encode()
    with pytest.raises(SampleImportRefused) as refused:
        import_samples(db.session, afnor, "e.csv", bad, sites)
    assert any("site inconnu « nice »" in p for p in refused.value.problems)
    assert any("date invalide" in p for p in refused.value.problems)


def test_the_pages_print_one_page_per_day_and_tick_at_390px(client, auth, demo, afnor):
    auth.login_demo(demo, "qualite")
    base = f"/campagnes/{afnor.campaign_id}/audits/{afnor.id}/programme"
    for day, code in (("2018-04-24", "cavem"), ("2018-04-25", "dracenie"),
                      ("2018-04-26", "tpm")):
        response = client.post(base + "/creneaux", data={
            "day": day, "starts_at": "09:00", "ends_at": "10:30", "site_id": site(code).id,
            "topic": f"Visite {code}", "criteria": "F2, D1", "roles": ["site", "referent"],
            "people": "partenaires", "auditor": "A."})
        assert response.status_code == 302
    refused = client.post(base + "/creneaux", data={"day": "2018-05-02", "starts_at": "09:00",
                                                    "topic": "Trop tard"})
    assert refused.status_code == 400
    response = client.post(base + "/echantillon", data={
        "file": (io.BytesIO(sample_csv()), "echantillon.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "12 dossier(s) ajouté(s)" in page and "Colonnes ignorées" in page
    assert "Nom1" not in page

    printed = client.get(base + "/imprimer").get_data(as_text=True)
    assert printed.count('data-testid="print-day"') == 3
    assert printed.count("Responsable de site, Référent réseau, partenaires") == 3
    assert "programme_print.css" in printed  # a file: the pages' CSP allows no <style>
    css = client.get("/static/programme_print.css").get_data(as_text=True)
    assert "size: A4" in css and "break-after: page" in css

    tpm_slot = db.session.scalar(select(AuditSlot).where(AuditSlot.topic == "Visite tpm"))
    proof = paper_proofs(db.session, tpm_slot)[0]
    day_page = client.get(base + "/jour").get_data(as_text=True)
    assert f'data-testid="check-{tpm_slot.id}-{proof.id}" data-state=""' in day_page
    client.post(f"{base}/creneaux/{tpm_slot.id}/coche",
                data={"evidence_id": proof.id, "state": "shown"})
    day_page = client.get(base + "/jour").get_data(as_text=True)
    assert f'data-testid="check-{tpm_slot.id}-{proof.id}" data-state="shown"' in day_page
    wrong = client.post(f"{base}/creneaux/{tpm_slot.id}/coche",
                        data={"evidence_id": proof.id, "state": "perdu"}, follow_redirects=True)
    assert "État inconnu." in wrong.get_data(as_text=True)


def test_a_programme_is_proposed_from_the_sections_and_the_sites_then_corrected(
        client, auth, demo, afnor):
    auth.login_demo(demo, "qualite")
    base = f"/campagnes/{afnor.campaign_id}/audits/{afnor.id}/programme"
    assert "propose-programme" in client.get(base).get_data(as_text=True)
    assert client.post(base + "/proposer").status_code == 302
    slots = slots_of(db.session, afnor)
    got = [(s.day.day, s.starts_at.strftime("%H:%M"), s.site.code if s.site else "",
            s.topic.split(" — ")[0]) for s in slots]
    assert got == [
        (24, "09:00", "", "Réunion d’ouverture"),
        (24, "09:30", "tpm", "Axe A"), (24, "10:30", "tpm", "Axe B"),
        (24, "11:30", "tpm", "Axe C"), (24, "14:00", "tpm", "Axe D"),
        (24, "15:00", "tpm", "Axe E"), (24, "16:00", "tpm", "Axe F"),
        (25, "09:00", "tpm", "Axe G"), (25, "10:00", "tpm", "Axe H"),
        (25, "14:00", "cavem", "Visite : Site CAVEM (Var Estérel Méditerranée)"),
        (26, "09:00", "provence-verte", "Visite : Site Provence Verte"),
        (26, "14:00", "dracenie", "Visite : Site Dracénie"),
        (26, "16:30", "", "Réunion de clôture"),
    ]
    section_a = slots[1]
    assert section_a.criteria.startswith("A1, A2")
    # Whom each slot meets is the school's roles, ticked, and the others as text.
    assert (slots[0].roles, slots[0].people) == (["direction", "qualite"], "")
    assert (slots[9].roles, slots[9].people) == (["site"], "formateurs, stagiaires")
    assert slots[9].people_met == "Responsable de site, formateurs, stagiaires"
    # A second click does not double the programme.
    client.post(base + "/proposer")
    assert len(slots_of(db.session, afnor)) == 13
    # Editable afterwards: the auditor's plan moves section A to 10:00 and drops section H.
    edit = f"{base}/creneaux/{section_a.id}"
    form = client.get(edit).get_data(as_text=True)
    assert 'value="09:30"' in form
    assert re.search(r'name="roles" id="roles-1" value="direction" checked', form)
    assert re.search(r'name="roles" id="roles-3" value="site" >', form)
    response = client.post(edit, data={
        "day": "2018-04-24", "starts_at": "10:00", "ends_at": "11:00", "site_id": "0",
        "topic": section_a.topic, "criteria": "A1, A2, A3", "roles": ["direction"],
        "people": "président du conseil d’administration"})
    assert response.status_code == 302
    refused = client.post(edit, data={"day": "2018-04-27", "starts_at": "10:00",
                                      "site_id": "0", "topic": "Hors audit"})
    assert refused.status_code == 200 and "pendant l’audit" in refused.get_data(as_text=True)
    db.session.expire_all()
    moved = db.session.get(AuditSlot, section_a.id)
    assert (moved.starts_at, moved.site_id, moved.criteria) == (time(10), None, "A1, A2, A3")
    assert (moved.roles, moved.people) == (["direction"], "président du conseil d’administration")
    assert "Direction, président du conseil d’administration" in client.get(base).get_data(
        as_text=True)
    assert client.post(f"{base}/creneaux/{slots[8].id}/supprimer").status_code == 302
    assert len(slots_of(db.session, afnor)) == 12
    auth.logout()
    auth.login_demo(demo, "auditeur")
    assert client.post(base + "/proposer").status_code == 403
    assert "edit-slot" not in client.get(base).get_data(as_text=True)


def test_a_finding_of_the_report_is_recorded_against_its_slot(client, auth, demo, afnor):
    tpm_slot = add_slot(db.session, afnor, SlotInput(
        day=date(2018, 4, 26), starts_at=time(9), ends_at=time(10, 30), site=site("tpm"),
        topic="Suivi des stagiaires", criteria="F2"))
    db.session.commit()
    auth.login_demo(demo, "qualite")
    base = f"/campagnes/{afnor.campaign_id}/audits/{afnor.id}"
    page = client.get(base).get_data(as_text=True)
    assert 'data-testid="slot-choice"' in page and "26/04 09:00 · Suivi des stagiaires" in page
    framework = next(f for f in afnor.campaign.frameworks if f.code == "e2c-label")
    response = client.post(base + "/constats", data={
        "framework_id": framework.id, "type_code": "point_sensible", "site_id": "0",
        "slot_id": str(tpm_slot.id), "title": "Feuilles d’émargement incomplètes"})
    assert response.status_code == 302 and f"slot={tpm_slot.id}" in response.location
    finding = db.session.scalar(select(Finding).where(
        Finding.title == "Feuilles d’émargement incomplètes"))
    assert (finding.slot_id, finding.site.code) == (tpm_slot.id, "tpm")  # the slot's site
    page = client.get(response.location).get_data(as_text=True)
    assert 'data-testid="finding-slot"' in page
    assert f'<option selected value="{tpm_slot.id}">' in page \
        or f'<option value="{tpm_slot.id}" selected>' in page
    # Another audit's slot is refused; deleting the slot keeps the finding.
    other = next(m for m in afnor.campaign.milestones if m.kind is MilestoneKind.PRE_AUDIT)
    with pytest.raises(FindingError, match="n’appartient pas"):
        create_finding(db.session, other, finding.created_by, FindingInput(
            framework=framework, type_code="point_sensible", title="Ailleurs", slot=tpm_slot))
    db.session.rollback()
    assert client.post(f"{base}/programme/creneaux/{tpm_slot.id}/supprimer").status_code == 302
    db.session.expire_all()
    kept = db.session.get(Finding, finding.id)
    assert kept is not None and kept.slot_id is None


def test_a_sampled_file_is_entrusted_to_someone_and_ticked_ready(client, auth, demo, afnor):
    auth.login_demo(demo, "qualite")
    base = f"/campagnes/{afnor.campaign_id}/audits/{afnor.id}/programme"
    import_samples(db.session, afnor, "echantillon.csv", sample_csv(2), list(
        db.session.scalars(select(Site))))
    db.session.commit()
    sample = samples_of(db.session, afnor)[0]
    tpm = db.session.scalar(select(User).where(User.email == "tpm@e2c-var.example"))
    page = client.get(base).get_data(as_text=True)
    assert 'data-testid="sample-preparer"' in page and tpm.full_name in page

    client.post(f"{base}/echantillon/{sample.id}", data={"prepared_by_id": tpm.id})
    db.session.expire_all()
    assert (sample.prepared_by_id, sample.ready) == (tpm.id, False)
    client.post(f"{base}/echantillon/{sample.id}", data={"ready": "1"})  # the toggle alone
    db.session.expire_all()
    assert (sample.prepared_by_id, sample.ready) == (tpm.id, True)  # still entrusted to TPM
    client.post(f"{base}/echantillon/{sample.id}", data={"prepared_by_id": ""})
    db.session.expire_all()
    assert (sample.prepared_by_id, sample.ready) == (None, True)
