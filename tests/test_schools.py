"""Schools created by an administrator (page and ``flask schools create``): sites, the
director's first account, refusals in French, and isolation from the other schools."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from audit_tracker.accounts.schools import SchoolError, parse_sites
from audit_tracker.extensions import db
from audit_tracker.models import Role, School, Site, User

FORM = {
    "name": "École de la 2e Chance du Gard",
    "short_name": "E2C Gard",
    "city": "Nîmes",
    "sites": "NIM ; Nîmes\nALS = Alès\n",
    "director_email": "Direction@E2C-Gard.example",
    "director_name": "Direction de l’E2C Gard",
}


@pytest.fixture
def admin(client, auth, make_user):
    user = make_user(Role.ADMIN)
    auth.login(user)
    return user


def test_admin_creates_a_school_whose_director_can_log_in_and_sees_only_it(
        app, client, auth, admin):
    response = client.post("/ecoles", data=FORM)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    password = re.search(r'data-testid="director-password">([^<]+)<', body).group(1)
    assert "n’est affiché qu’une fois" in body
    school = db.session.scalar(select(School).where(School.short_name == "E2C Gard"))
    assert school.city == "Nîmes"
    assert sorted((s.code, s.name) for s in school.sites) == [("ALS", "Alès"), ("NIM", "Nîmes")]
    director = db.session.scalar(select(User).where(User.school_id == school.id))
    assert director.email == "direction@e2c-gard.example" and director.role is Role.DIRECTOR
    listing = client.get("/ecoles").get_data(as_text=True)
    assert "E2C Gard" in listing and password not in listing  # shown once only
    # The admin creates the school's other accounts on its page of accounts.
    page = client.get(f"/comptes?ecole={school.id}").get_data(as_text=True)
    assert "direction@e2c-gard.example" in page and admin.email not in page
    nim = next(s for s in school.sites if s.code == "NIM")
    created = client.post(f"/comptes?ecole={school.id}", data={
        "email": "nimes@e2c-gard.example", "full_name": "Site de Nîmes", "role": "site",
        "site_id": str(nim.id), "password": "motdepasse-du-site"})
    assert created.status_code == 302 and created.location.endswith(f"/comptes?ecole={school.id}")
    manager = db.session.scalar(select(User).where(User.email == "nimes@e2c-gard.example"))
    assert manager.school_id == school.id and manager.site_id == nim.id
    assert client.get("/comptes?ecole=999999").status_code == 404
    assert client.get("/comptes?ecole=99999999999").status_code == 404
    # The new director works in the new school, and sees none of the admin's school.
    auth.logout()
    auth.login("direction@e2c-gard.example", password)
    assert client.get("/comptes").status_code == 403  # accounts stay the admin's job
    assert client.get("/preuves/").status_code == 200
    assert admin.school.name not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(("change", "message"), [
    ({"short_name": "école-test"}, None),  # the fixture's school: taken (case-insensitive)
    ({"sites": "NIM Nîmes"}, "Ligne 1 des sites : écrivez « CODE ; Nom du site »."),
    ({"sites": "NIM ; Nîmes\nnim ; Nîmes bis"}, "Deux sites portent le même code."),
    ({"sites": "N/M ; Nîmes"}, "code de 1 à 40 lettres"),
    ({"director_email": "ADMIN"}, None),  # the admin's own address: taken
])
def test_a_refused_school_says_why_in_french_and_creates_nothing(
        client, admin, school, change, message):
    data = {**FORM, **change}
    if change.get("short_name"):
        data["short_name"] = school.short_name.upper()
        message = f"Une école porte déjà le nom court « {school.short_name.upper()} »."
    if change.get("director_email"):
        data["director_email"] = admin.email.upper()
        message = f"Un compte existe déjà avec l’adresse {admin.email}."
    before = db.session.scalar(select(func.count(School.id)))
    response = client.post("/ecoles", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert db.session.scalar(select(func.count(School.id))) == before
    assert db.session.scalar(select(func.count(Site.id)).where(Site.code == "ALS")) == 0


def test_flask_schools_create_prints_the_password_once(app, runner, school):
    result = runner.invoke(args=[
        "schools", "create", "École de la 2e Chance de Marseille", "--short-name", "E2C Marseille",
        "--city", "Marseille", "--site", "NORD=Marseille Nord", "--site", "SUD=Marseille Sud",
        "--director", "direction@e2c-marseille.example"])
    assert result.exit_code == 0, result.output
    assert "École créée : École de la 2e Chance de Marseille (NORD, SUD)." in result.output
    password = re.search(r"mot de passe : (\S+)", result.output).group(1)
    director = db.session.scalar(select(User).where(
        User.email == "direction@e2c-marseille.example"))
    assert director.check_password(password) and director.role is Role.DIRECTOR
    listed = runner.invoke(args=["schools", "list"])
    assert "E2C Marseille" in listed.output and "(2 site(s), 1 compte(s))" in listed.output
    again = runner.invoke(args=[
        "schools", "create", "Autre", "--short-name", "e2c marseille", "--site", "A=A",
        "--director", "autre@example.org"])
    assert again.exit_code == 1
    assert "Une école porte déjà le nom court « e2c marseille »." in again.output


def test_parse_sites_refuses_a_line_without_a_name():
    assert parse_sites("TPM ; Toulon\n\n CAVEM=Fréjus ") == [("TPM", "Toulon"),
                                                           ("CAVEM", "Fréjus")]
    with pytest.raises(SchoolError):
        parse_sites("TPM ;")
