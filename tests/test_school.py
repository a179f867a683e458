"""The school's presentation: the demo's, read by everyone, edited by the direction and the
quality lead, refusing another school's proof or site and a stale form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from audit_tracker.domain.errors import Conflict
from audit_tracker.extensions import db
from audit_tracker.models import School, SchoolProfile, Site, User
from audit_tracker.school import service

from . import factories


def _school() -> School:
    return db.session.scalar(select(School).where(School.short_name == "E2C Var"))


def _form(school: School, **changes) -> dict:
    shown = service.presentation(db.session, school)
    p = shown.profile
    data = {
        "lock_version": str(p.lock_version),
        "legal_name": p.legal_name, "legal_form": p.legal_form, "head_office": p.head_office,
        "governance": p.governance, "funders": p.funders, "partners": p.partners,
        "cofunding_statement": p.cofunding_statement, "staff_fte": str(p.staff_fte or ""),
        "organigramme_evidence_id": str(p.organigramme_evidence_id or 0),
    }
    for index, site in enumerate(shown.sites):
        data[f"sites-{index}-site_id"] = str(site.id)
        data[f"sites-{index}-opened_on"] = site.opened_on.isoformat() if site.opened_on else ""
        data[f"sites-{index}-address"] = site.address or ""
        data[f"sites-{index}-capacity"] = str(site.capacity or "")
        data[f"sites-{index}-staff_fte"] = str(site.staff_fte or "")
    data.update(changes)
    return data


def test_demo_presents_the_school_from_the_note(demo):
    """Four sites with their opening dates, the note's bodies, funders, partners, mention."""
    shown = service.presentation(db.session, _school())
    assert [(s.code, s.opened_on.isoformat()) for s in shown.sites] == [
        ("tpm", "2017-03-13"), ("cavem", "2017-06-26"), ("provence-verte", "2017-09-25"),
        ("dracenie", "2017-10-23")]
    assert all(s.address and s.capacity for s in shown.sites)
    assert any("Comité stratégique" in line for line in shown.governance)
    assert any("Sous-comité financier" in line for line in shown.governance)
    assert any("Fonds Social Européen" in line for line in shown.funders)
    assert any("Provence Rosé" in line for line in shown.partners)
    assert shown.profile.cofunding_statement.startswith(
        "Cette formation est cofinancée par l’Union Européenne, l’État et la Région")
    assert shown.total_capacity == 130
    assert shown.total_staff == Decimal("21.5")


def test_everyone_reads_the_page_and_only_editors_see_the_button(client, auth, demo):
    auth.login_demo(demo, "auditeur")
    page = client.get("/ecole").get_data(as_text=True)
    assert "Comité stratégique" in page and "Site Dracénie" in page
    assert "cofinancée par l’Union Européenne" in page
    assert "/ecole/modifier" not in page
    auth.logout()
    auth.login_demo(demo, "qualite")
    assert "/ecole/modifier" in client.get("/ecole").get_data(as_text=True)


def test_director_edits_the_presentation_and_a_site(client, auth, demo):
    auth.login_demo(demo, "direction")
    school = _school()
    assert client.get("/ecole/modifier").status_code == 200
    response = client.post("/ecole/modifier", data=_form(
        school, legal_name="Association E2C Var", **{"sites-0-capacity": "72",
                                                     "sites-0-address": "1 rue du Port, Toulon"}))
    assert response.status_code == 302
    db.session.expire_all()
    profile = db.session.get(SchoolProfile, school.id)
    assert profile.legal_name == "Association E2C Var"
    assert profile.updated_by.email == "direction@e2c-var.example"
    tpm = db.session.scalar(select(Site).where(Site.code == "tpm"))
    assert (tpm.capacity, tpm.address) == (72, "1 rue du Port, Toulon")


def test_a_stale_form_gets_a_conflict_and_changes_nothing(client, auth, demo):
    auth.login_demo(demo, "qualite")
    school = _school()
    stale = _form(school, legal_name="Version périmée")
    assert client.post("/ecole/modifier", data=_form(school, legal_name="Première")
                       ).status_code == 302
    page = client.post("/ecole/modifier", data=stale).get_data(as_text=True)
    assert "modifié par quelqu’un d’autre" in page
    db.session.expire_all()
    assert db.session.get(SchoolProfile, school.id).legal_name == "Première"


def test_another_schools_proof_or_site_is_refused(client, auth, demo, make_evidence):
    other = factories.SchoolFactory()
    foreign_site = factories.SiteFactory(school=other)
    stranger = factories.UserFactory(school=other)
    db.session.commit()
    foreign_proof = make_evidence(stranger)
    auth.login_demo(demo, "direction")
    school = _school()
    page = client.post("/ecole/modifier", data=_form(
        school, organigramme_evidence_id=str(foreign_proof.id)))
    assert page.status_code == 200  # not a choice of this school: the form refuses it
    page = client.post("/ecole/modifier", data=_form(
        school, **{"sites-0-site_id": str(foreign_site.id), "sites-0-capacity": "999"}))
    assert "n’est pas un site de l’école" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Site, foreign_site.id).capacity is None


def test_service_refuses_a_stale_lock(demo):
    school = _school()
    author = db.session.scalar(select(User).where(User.email == "qualite@e2c-var.example"))
    with pytest.raises(Conflict):
        service.save_profile(db.session, school, author, service.ProfileInput(), [],
                             seen_lock_version=99)


@pytest.mark.parametrize("field,value", [("staff_fte", "-1"), ("sites-0-capacity", "-3"),
                                         ("legal_name", "x" * 201)])
def test_bad_input_is_refused_without_a_500(client, auth, demo, field, value):
    auth.login_demo(demo, "qualite")
    response = client.post("/ecole/modifier", data=_form(_school(), **{field: value}))
    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True)
