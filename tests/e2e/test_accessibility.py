"""axe-core on the main pages in Chromium: no critical and no serious violation.

axe-core comes from the npm registry into node_modules/ (``make test`` installs it; never a
CDN); without it this check skips, unless ``AUDIT_TRACKER_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer, _serve, browser_required, complete_login

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

PAGES = {
    "direction": ["/", "/campagnes", "/campagnes/1", "/campagnes/1/preparation",
                  "/campagnes/1/preparation/criteres/3", "/preuves/a-valider", "/preuves/",
                  "/preuves/1", "/campagnes/1/actions", "/campagnes/1/calendrier"],
    "qualite": ["/"],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("accessibility"), story=True)


@pytest.fixture(scope="module", autouse=True)
def _axe_present() -> None:
    if not AXE.exists():
        reason = "axe-core absent: make axe (npm install axe-core into node_modules/)"
        if browser_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def page(browser) -> Iterator[Page]:
    """A page whose Content-Security-Policy lets the test inject axe-core (the application's
    own pages still run under it: the other journeys use the strict page fixture)."""
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def serious_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] if isinstance(node["target"][0], str)
                    else str(node["target"][0]) for node in v["nodes"][:3])
        for v in results if v["impact"] in {"critical", "serious"}
    ]


@pytest.mark.parametrize(("role", "path"), [
    (role, path) for role, paths in PAGES.items() for path in paths])
def test_no_critical_or_serious_violation(page: Page, server, role, path):
    email = f"{role}@e2c-var.example"
    page.goto(f"{server.url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(server.accounts[email])
    page.get_by_role("button", name="Se connecter").click()
    complete_login(page, email)
    expect(page).to_have_url(f"{server.url}/")
    response = page.goto(f"{server.url}{path}")
    assert response is not None and response.status == 200, path
    assert serious_violations(page) == [], path


def test_login_page_has_no_critical_or_serious_violation(page: Page, server):
    page.goto(f"{server.url}/connexion")
    assert serious_violations(page) == []
