"""Login, CSRF, sanitised Markdown and French error pages."""

from __future__ import annotations

import pytest

from audit_tracker.extensions import db
from audit_tracker.models import Role
from audit_tracker.templating import render_markdown


def test_login_with_a_wrong_password_says_so_in_french(client, make_user):
    user = make_user(Role.DIRECTOR)
    response = client.post("/connexion", data={"email": user.email, "password": "pas-le-bon"})
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_login_ignores_the_case_of_the_email(client, make_user):
    user = make_user(Role.DIRECTOR)
    response = client.post("/connexion", data={"email": user.email.upper(),
                                                "password": "motdepasse-de-test"})
    assert response.status_code == 302


def test_a_deactivated_account_cannot_log_in(client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    user.active = False
    db.session.commit()
    response = client.post("/connexion", data={"email": user.email,
                                                "password": "motdepasse-de-test"})
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


@pytest.mark.parametrize("target, expected", [
    ("/referentiels/", "/referentiels/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
])
def test_login_returns_only_to_a_page_of_this_site(client, make_user, target, expected):
    user = make_user(Role.AUDITOR)
    response = client.post(f"/connexion?next={target}", data={
        "email": user.email, "password": "motdepasse-de-test"})
    assert response.location == expected


def test_an_expired_session_sends_back_to_login_with_a_french_message(client, make_user):
    user = make_user(Role.DIRECTOR)
    client.post("/connexion", data={"email": user.email, "password": "motdepasse-de-test"})
    client.delete_cookie("session")  # what an expired or lost session looks like to the server
    response = client.get("/referentiels/", follow_redirects=True)
    page = response.get_data(as_text=True)
    # Without its cookie the server cannot tell it from a first visit (tests/test_sessions.py
    # shows the « session ended » message for a session it refuses).
    assert "Veuillez vous connecter." in page
    assert response.request.path == "/connexion"


def test_logout_needs_a_post(client, make_user):
    user = make_user(Role.DIRECTOR)
    client.post("/connexion", data={"email": user.email, "password": "motdepasse-de-test"})
    assert client.get("/deconnexion").status_code == 405
    assert client.post("/deconnexion").status_code == 302
    assert client.get("/").status_code == 302


def test_a_form_without_its_csrf_token_is_refused_and_nothing_saved(app, client, make_user):
    from audit_tracker.models import Campaign

    from .factories import CampaignFactory

    user = make_user(Role.QUALITY_LEAD)
    campaign = CampaignFactory(school=user.school)
    db.session.commit()
    client.post("/connexion", data={"email": user.email, "password": "motdepasse-de-test"})
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/campagnes/{campaign.id}/modifier", data={"name": "Piratée"})
    assert response.status_code == 400
    assert "Le formulaire a expiré ou n’a pas été reconnu" in response.get_data(as_text=True)
    assert db.session.get(Campaign, campaign.id).name != "Piratée"


def test_login_form_carries_a_csrf_token_when_protection_is_on(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    assert 'name="csrf_token"' in client.get("/connexion").get_data(as_text=True)


@pytest.mark.parametrize("source, forbidden", [
    ("<script>alert(1)</script>", "<script"),
    ("[clic](javascript:alert(1))", "javascript:"),
    ('<img src=x onerror="alert(1)">', "onerror"),
    ("<iframe src='https://evil.example'></iframe>", "<iframe"),
    ('<a href="https://ok.example" onclick="x()">lien</a>', "onclick"),
    ("<style>body{display:none}</style>", "<style"),
])
def test_markdown_is_sanitised(source, forbidden):
    assert forbidden not in str(render_markdown(source))


def test_markdown_keeps_what_a_quality_lead_writes():
    html = str(render_markdown("**Preuve** : voir [le guide](https://travail-emploi.gouv.fr)\n\n"
                               "- compte rendu\n- émargement\n\n| a | b |\n|---|---|\n| 1 | 2 |"))
    assert "<strong>Preuve</strong>" in html
    assert 'href="https://travail-emploi.gouv.fr"' in html and 'rel="noopener' in html
    assert "<li>émargement</li>" in html and "<table>" in html


@pytest.mark.parametrize("path, status, message", [
    ("/nulle-part", 404, "Cette page n’existe pas ou plus."),
    ("/comptes", 403, "Vous n’avez pas le droit d’accéder à cette page."),
])
def test_error_pages_are_in_french(client, make_user, path, status, message):
    user = make_user(Role.AUDITOR)
    client.post("/connexion", data={"email": user.email, "password": "motdepasse-de-test"})
    response = client.get(path)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_a_too_large_request_gets_the_french_413_page(app, client, make_user):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    user = make_user(Role.ADMIN)
    client.post("/connexion", data={"email": user.email, "password": "motdepasse-de-test"})
    response = client.post("/referentiels/import", data=b"x" * (2 * 1024 * 1024),
                           content_type="application/octet-stream")
    assert response.status_code == 413
    assert "dépasse la taille maximale de 1 Mo" in response.get_data(as_text=True)


def test_an_unexpected_error_gets_the_french_500_page_and_rolls_back(app, client, make_user):
    from audit_tracker.accounts.permissions import public

    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/casse", "broken", public(broken))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/casse")
    assert response.status_code == 500
    assert "Une erreur interne est survenue" in response.get_data(as_text=True)
    assert "boom" not in response.get_data(as_text=True)
