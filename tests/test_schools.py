"""Schools created by an administrator (page and ``flask schools create``): sites, the
référentiels followed, the director's first account, refusals in French, and isolation from the
other schools; then the référentiels the school follows, changed by its director."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from audit_tracker.accounts.schools import SchoolError, parse_sites
from audit_tracker.extensions import db
from audit_tracker.models import Campaign, JournalEntry, Role, School, SchoolReferentiel, Site, User
from audit_tracker.referentiel.importer import latest_framework

FORM = {
    "name": "École de la 2e Chance du Gard",
    "short_name": "E2C Gard",
    "city": "Nîmes",
    "sites": "NIM ; Nîmes\nALS = Alès\n",
    "director_email": "Direction@E2C-Gard.example",
    "director_name": "Direction de l’E2C Gard",
    "referentiels": ["e2c-label", "qualiopi-v9"],
}
NONE_FOLLOWED = "Choisissez au moins un référentiel suivi par l’école."


@pytest.fixture
def admin(client, auth, make_user):
    user = make_user(Role.ADMIN)
    auth.login(user)
    return user


def test_admin_creates_a_school_whose_director_can_log_in_and_sees_only_it(
        app, client, auth, admin, referentiels):
    form = client.get("/ecoles").get_data(as_text=True)
    # Both référentiels of the instance are offered, ticked: an E2C follows the two.
    assert re.search(r'<input [^>]*value="e2c-label" checked', form)
    assert re.search(r'<input [^>]*value="qualiopi-v9" checked', form)
    response = client.post("/ecoles", data=FORM)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    password = re.search(r'data-testid="director-password">([^<]+)<', body).group(1)
    assert "n’est affiché qu’une fois" in body
    school = db.session.scalar(select(School).where(School.short_name == "E2C Gard"))
    assert school.city == "Nîmes"
    assert sorted((s.code, s.name) for s in school.sites) == [("ALS", "Alès"), ("NIM", "Nîmes")]
    assert school.referentiel_codes == ["e2c-label", "qualiopi-v9"]
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
    ({"referentiels": []}, NONE_FOLLOWED),
])
def test_a_refused_school_says_why_in_french_and_creates_nothing(
        client, admin, school, referentiels, change, message):
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
    assert db.session.scalar(select(func.count()).select_from(SchoolReferentiel)) == 0


def test_flask_schools_create_prints_the_password_once(app, runner, school, referentiels):
    result = runner.invoke(args=[
        "schools", "create", "École de la 2e Chance de Marseille", "--short-name", "E2C Marseille",
        "--city", "Marseille", "--site", "NORD=Marseille Nord", "--site", "SUD=Marseille Sud",
        "--director", "direction@e2c-marseille.example", "--referentiel", "qualiopi-v9"])
    assert result.exit_code == 0, result.output
    assert "École créée : École de la 2e Chance de Marseille (NORD, SUD)." in result.output
    assert "Référentiels suivis : qualiopi-v9." in result.output
    password = re.search(r"mot de passe : (\S+)", result.output).group(1)
    director = db.session.scalar(select(User).where(
        User.email == "direction@e2c-marseille.example"))
    assert director.check_password(password) and director.role is Role.DIRECTOR
    listed = runner.invoke(args=["schools", "list"])
    assert "E2C Marseille" in listed.output
    assert "(2 site(s), 1 compte(s))  qualiopi-v9" in listed.output
    again = runner.invoke(args=[
        "schools", "create", "Autre", "--short-name", "e2c marseille", "--site", "A=A",
        "--director", "autre@example.org", "--referentiel", "e2c-label"])
    assert again.exit_code == 1
    assert "Une école porte déjà le nom court « e2c marseille »." in again.output


@pytest.mark.parametrize(("options", "message"), [
    ([], NONE_FOLLOWED),
    (["--referentiel", "e2c-label", "--referentiel", "iso-9001"],
     "Référentiel inconnu : iso-9001."),
])
def test_flask_schools_create_refuses_without_a_known_referentiel_and_creates_nothing(
        runner, school, referentiels, options, message):
    before = db.session.scalar(select(func.count(School.id)))
    result = runner.invoke(args=[
        "schools", "create", "École de la 2e Chance de Nice", "--short-name", "E2C Nice",
        "--site", "NICE=Nice", "--director", "direction@e2c-nice.example", *options])
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalar(select(func.count(School.id))) == before
    assert db.session.scalar(select(User.id).where(
        User.email == "direction@e2c-nice.example")) is None


def test_parse_sites_refuses_a_line_without_a_name():
    assert parse_sites("TPM ; Toulon\n\n CAVEM=Fréjus ") == [("TPM", "Toulon"),
                                                           ("CAVEM", "Fréjus")]
    with pytest.raises(SchoolError):
        parse_sites("TPM ;")


# ------------------------------------------------------------- the référentiels the school follows


def _var() -> School:
    return db.session.scalar(select(School).where(School.short_name == "E2C Var"))


def _selected_frameworks(page: str) -> set[int]:
    return {int(value) for value in re.findall(r'<option selected value="(\d+)"', page)}


def test_a_new_campaign_is_proposed_on_the_latest_version_of_what_the_school_follows(
        client, auth, demo):
    """Following a code, the school follows each new version as soon as it is imported; the
    campaign already under way keeps the version it was set on."""
    import dataclasses

    from audit_tracker.referentiel.importer import save_framework
    from audit_tracker.referentiel.service import shipped_specs

    e2c, qualiopi = latest_framework(db.session, "e2c-label"), latest_framework(
        db.session, "qualiopi-v9")
    auth.login_demo(demo, "qualite")
    assert _selected_frameworks(client.get("/campagnes/nouvelle").get_data(as_text=True)) == {
        e2c.id, qualiopi.id}
    shipped = next(spec for spec in shipped_specs() if spec.code == "qualiopi-v9")
    newer = save_framework(db.session, dataclasses.replace(shipped, version="9.1"))
    db.session.commit()
    assert _selected_frameworks(client.get("/campagnes/nouvelle").get_data(as_text=True)) == {
        e2c.id, newer.id}
    assert "Qualiopi" in newer.name and "v9.1" in client.get("/ecole").get_data(as_text=True)
    campaign = db.session.scalar(select(Campaign).where(Campaign.school_id == _var().id))
    assert qualiopi.id in {f.id for f in campaign.frameworks}
    # A school that follows the label only is proposed the label only.
    var = _var()
    var.referentiels = [SchoolReferentiel(code="e2c-label")]
    db.session.commit()
    assert _selected_frameworks(client.get("/campagnes/nouvelle").get_data(as_text=True)) == {
        e2c.id}


def test_the_director_changes_what_the_school_follows_and_the_journal_says_so(
        client, auth, demo):
    auth.login_demo(demo, "direction")
    page = client.get("/ecole").get_data(as_text=True)
    followed = page.split('data-testid="followed-referentiels"')[1].split("</ul>")[0]
    assert "Qualiopi" in followed and "/ecole/referentiels" in followed
    form = client.get("/ecole/referentiels").get_data(as_text=True)
    assert re.search(r'<input [^>]*value="qualiopi-v9" checked', form)
    response = client.post("/ecole/referentiels", data={"referentiels": ["e2c-label"]})
    assert response.status_code == 302 and response.location.endswith("/ecole")
    assert "Référentiels suivis enregistrés." in client.get(response.location).get_data(
        as_text=True)
    db.session.expire_all()
    var = _var()
    assert var.referentiel_codes == ["e2c-label"]
    dropped = db.session.scalar(select(JournalEntry).where(
        JournalEntry.table_name == "school_referentiel", JournalEntry.kind == "delete"))
    assert dropped.record_id == f"{var.id}-qualiopi-v9"
    assert dropped.actor_email == "direction@e2c-var.example" and dropped.school_id == var.id
    # None ticked: refused in French, nothing changed.
    refused = client.post("/ecole/referentiels", data={})
    assert refused.status_code == 200
    assert NONE_FOLLOWED in refused.get_data(as_text=True)
    # A code the instance does not have (a forged form): refused by the form, in French.
    forged = client.post("/ecole/referentiels", data={"referentiels": ["iso-9001"]})
    assert "n&#39;est pas un choix valide pour ce champ." in forged.get_data(as_text=True)
    db.session.expire_all()
    assert _var().referentiel_codes == ["e2c-label"]


def test_only_the_director_and_the_admin_choose_and_nobody_reaches_another_school(
        client, auth, demo, make_user, referentiels):
    other = make_user(Role.DIRECTOR).school  # another school, following nothing yet
    auth.login_demo(demo, "qualite")
    assert client.get("/ecole/referentiels").status_code == 403
    assert "/ecole/referentiels" not in client.get("/ecole").get_data(as_text=True)
    auth.logout()
    auth.login_demo(demo, "direction")
    # A director names only their own school: another one does not exist for them.
    assert client.get(f"/ecole/referentiels?ecole={other.id}").status_code == 404
    assert client.post(f"/ecole/referentiels?ecole={other.id}",
                       data={"referentiels": ["e2c-label"]}).status_code == 404
    auth.logout()
    # The platform admin sets another school's from the list of schools.
    auth.login_demo(demo, "admin")
    listing = client.get("/ecoles").get_data(as_text=True)
    assert f"/ecole/referentiels?ecole={other.id}" in listing
    response = client.post(f"/ecole/referentiels?ecole={other.id}",
                           data={"referentiels": ["qualiopi-v9"]})
    assert response.status_code == 302 and response.location.endswith("/ecoles")
    db.session.expire_all()
    assert db.session.get(School, other.id).referentiel_codes == ["qualiopi-v9"]
    assert _var().referentiel_codes == ["e2c-label", "qualiopi-v9"]
    assert client.get("/ecole/referentiels?ecole=99999999999").status_code == 404
