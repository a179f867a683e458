"""The permission matrix: every route × every role → allowed or refused, checked by real requests.

The table below is written by hand on purpose: it is the specification. A new route that is not
in it fails ``test_every_route_is_in_the_matrix``; a route whose guard drifts from the table fails
the per-role test.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from audit_tracker.accounts.permissions import Permission
from audit_tracker.extensions import db
from audit_tracker.models import ApiToken, Campaign, Criterion, Framework, User

ROLES = ("admin", "direction", "qualite", "site", "auditeur")
EVERYONE = frozenset(ROLES)
EDITORS = frozenset({"admin", "direction", "qualite"})
ADMIN = frozenset({"admin"})
PUBLIC = "public"

MATRIX: dict[str, frozenset[str] | str] = {
    "accounts.login": PUBLIC,
    "accounts.language": PUBLIC,
    "api.openapi": PUBLIC,
    "accounts.logout": EVERYONE,
    "accounts.users": ADMIN,
    "campaigns.index": EVERYONE,
    "campaigns.detail": EVERYONE,
    "campaigns.create": EDITORS,
    "campaigns.edit": EDITORS,
    "campaigns.add_milestone": EDITORS,
    "campaigns.edit_milestone": EDITORS,
    "campaigns.delete_milestone": EDITORS,
    "referentiel.index": EVERYONE,
    "referentiel.framework": EVERYONE,
    "referentiel.criterion": EVERYONE,
    "referentiel.import_file": ADMIN,
    "api.frameworks": EVERYONE,
    "api.framework_criteria": EVERYONE,
    "api.campaign_list": EVERYONE,
    "api.campaign_detail": EVERYONE,
}

# Requests that change who is logged in or delete the sample rows run last.
RUN_LAST = ("campaigns.delete_milestone", "accounts.logout")
NOT_OURS = {"static", "bootstrap.static"}


def _routes(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in NOT_OURS]
    return sorted(rules, key=lambda r: (r.endpoint in RUN_LAST, RUN_LAST.index(r.endpoint)
                                        if r.endpoint in RUN_LAST else 0, r.endpoint))


def _sample_values():
    campaign = db.session.scalar(select(Campaign).limit(1))
    qualiopi = db.session.scalar(select(Framework).where(Framework.code == "qualiopi-v9"))
    return {
        "campaign_id": campaign.id,
        "milestone_id": campaign.milestones[0].id,
        "framework_id": qualiopi.id,
        "criterion_id": db.session.scalar(select(Criterion.id).limit(1)),
        "code": "qualiopi-v9",
    }


def _request(client, rule, values, headers):
    url = rule.build(values, append_unknown=False)[1]
    method = "GET" if "GET" in rule.methods else "POST"
    return method, url, client.open(url, method=method, headers=headers)


def _refused(endpoint: str, role: str | None, response) -> bool:
    if role is None:  # anonymous: pages go to the login form, the API answers 401
        if endpoint.startswith("api."):
            return response.status_code == 401
        return response.status_code == 302 and "/connexion" in response.location
    return response.status_code == 403


def test_every_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()} - NOT_OURS
    assert endpoints == set(MATRIX), "routes and the permission matrix must match exactly"


def test_every_view_declares_the_permission_the_matrix_implies(app):
    for endpoint, allowed in MATRIX.items():
        declared = app.view_functions[endpoint].required_permission
        assert (declared is Permission.PUBLIC) == (allowed == PUBLIC), endpoint


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: r or "anonyme")
def test_role_reaches_exactly_what_the_matrix_allows(app, client, auth, demo, role):
    headers = {}
    if role:
        user = db.session.scalar(select(User).where(User.email == f"{_email(role)}"))
        auth.login_demo(demo, _email(role).split("@")[0])
        token, clear = ApiToken.issue(user)
        db.session.add(token)
        db.session.commit()
        headers = {"Authorization": f"Bearer {clear}"}
    values = _sample_values()
    wrong = []
    for rule in _routes(app):
        allowed = MATRIX[rule.endpoint]
        expected_ok = allowed == PUBLIC or (role is not None and role in allowed)
        method, url, response = _request(client, rule, values, headers)
        refused = _refused(rule.endpoint, role, response)
        if expected_ok == refused or response.status_code >= 500:
            wrong.append(f"{method} {url} → {response.status_code}")
    assert not wrong, f"role {role or 'anonyme'}: " + "; ".join(wrong)


def _email(role: str) -> str:
    local = {"site": "tpm"}.get(role, role)
    return f"{local}@e2c-var.example"


def test_a_view_without_a_declared_permission_is_refused(app, client, make_user):
    """Fail closed: forgetting ``@requires`` refuses the route instead of opening it."""
    from audit_tracker.models import Role

    app.add_url_rule("/oubli", "forgotten", lambda: "secret")
    client.post("/connexion", data={"email": make_user(Role.ADMIN).email,
                                    "password": "motdepasse-de-test"})
    response = client.get("/oubli")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)
