"""The two daily journeys in a real Chromium, counting the user's actions (issue 13).

An action is what a person does: a click, typing in a field, choosing files, a key press.
Opening the page a journey starts from is not counted. The journeys write screenshots at 1366
and 390 px wide of each role's home, a criterion page, the queue and the dashboard into the
folder named by ``AUDIT_TRACKER_SCREENSHOTS`` (default ``screenshots/``, git-ignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer, _serve, complete_login

SHOTS = Path(os.environ.get("AUDIT_TRACKER_SCREENSHOTS", "screenshots"))
PDF = Path(__file__).resolve().parent.parent / "data" / "uploads" / "preuve.pdf"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    """A server of its own: these journeys validate and refuse proofs, which must not change
    what the other browser tests see."""
    yield from _serve(tmp_path_factory.mktemp("daily_journeys"), story=True)


class Actions:
    """Counts what the user does; each method is one action."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    def click(self, locator) -> None:
        self.count += 1
        locator.click()

    def fill(self, locator, value: str) -> None:
        self.count += 1
        locator.fill(value)

    def choose_files(self, locator, files) -> None:
        self.count += 1
        locator.set_input_files(files)

    def press(self, key: str) -> None:
        self.count += 1
        self.page.keyboard.press(key)


def log_in(page: Page, server: LiveServer, local_part: str) -> None:
    email = f"{local_part}@e2c-var.example"
    page.goto(f"{server.url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(server.accounts[email])
    page.get_by_role("button", name="Se connecter").click()
    complete_login(page, email)
    expect(page).to_have_url(f"{server.url}/")


def shoot(page: Page, name: str, *, narrow_fits: bool = False) -> None:
    """Screenshots at 1366 and 390 px; with ``narrow_fits``, the page must not scroll sideways
    at 390 px."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        if width == 390 and narrow_fits:
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name}: {overflow} px of sideways scroll at 390 px"
    page.set_viewport_size({"width": 1366, "height": 900})


def test_a3_missing_proof_to_linked_proof_in_three_actions(page: Page, server):
    log_in(page, server, "qualite")
    page.goto(f"{server.url}/campagnes/1/preparation")
    row = page.locator('[data-testid="criterion-row"][data-code="A3"]').first
    expect(row).to_contain_text("Preuve manquante")
    shoot(page, "dashboard-qualite")

    act = Actions(page)
    act.click(row.get_by_test_id("add-proof-link"))
    expect(page).to_have_url(re.compile(r"/criteres/\d+#ajouter-preuve$"))
    shoot(page, "criterion-A3")
    act.choose_files(page.get_by_label("Fichier", exact=True), [str(PDF)])
    act.click(page.get_by_role("button", name="Enregistrer et lier au critère A3"))

    expect(page.get_by_role("alert").first).to_contain_text(
        "liée au critère A3 et envoyée à la validation")
    expect(page.get_by_test_id("verdict")).to_contain_text("À valider")
    expect(page.get_by_test_id("proofs")).to_contain_text("preuve")
    assert act.count <= 3, act.count


def test_picker_links_an_existing_proof_in_two_actions(page: Page, server):
    log_in(page, server, "qualite")
    page.goto(f"{server.url}/campagnes/1/preparation")
    row = page.locator('[data-testid="criterion-row"]', has=page.get_by_test_id(
        "add-proof-link")).first
    code = row.get_attribute("data-code")
    act = Actions(page)
    act.click(row.get_by_test_id("add-proof-link"))
    act.fill(page.get_by_label("Titre, texte du fichier ou code d’un critère"), "A1")
    results = page.locator("#picker-results").get_by_role("button", name="Lier")
    expect(results.first).to_be_visible()
    act.click(results.first)
    expect(page.get_by_role("alert").first).to_contain_text(f"Preuve liée au critère {code}")
    assert act.count <= 3, act.count


def test_four_eyes_refuses_a_self_decision_in_french(page: Page, server, tmp_path):
    log_in(page, server, "qualite")
    page.goto(f"{server.url}/campagnes/1/preparation")
    page.get_by_test_id("add-proof-link").first.click()
    mine = tmp_path / "auto-soumise.txt"
    mine.write_text("Soumise par la responsable qualité elle-même.\n", encoding="utf-8")
    page.get_by_label("Fichier", exact=True).set_input_files([str(mine)])
    page.get_by_role("button", name=re.compile(r"^Enregistrer et lier")).click()
    expect(page.get_by_role("alert").first).to_contain_text("envoyée à la validation")
    page.goto(f"{server.url}/preuves/a-valider")
    page.get_by_test_id("queue-list").get_by_role("link", name="auto-soumise").click()
    expect(page.get_by_test_id("queue-item")).to_contain_text("auto-soumise")
    Actions(page).click(page.get_by_role("button", name="Valider", exact=True))
    expect(page.get_by_role("alert").first).to_contain_text(
        "Principe des quatre yeux : vous avez soumis cette preuve")
    shoot(page, "queue-qualite-four-eyes")


def test_director_home_is_no_go_with_working_links(page: Page, server):
    log_in(page, server, "direction")
    expect(page.get_by_test_id("verdict-badge")).to_have_text("No-go")
    expect(page.get_by_test_id("days-left")).to_contain_text(re.compile(r"dans \d+ jours"))
    failing = page.locator('[data-testid="rules"] [data-ok="n"] a')
    expect(failing.first).to_be_visible()
    shoot(page, "home-direction", narrow_fits=True)
    for href in failing.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert page.request.get(f"{server.url}{href}").status == 200, href
    Actions(page).click(failing.first)
    expect(page.locator("h1")).to_be_visible()
    expect(page.get_by_text("Page inexistante")).to_have_count(0)


def test_director_validates_three_proofs_at_one_or_two_actions_each(page: Page, server):
    log_in(page, server, "direction")
    page.get_by_test_id("open-queue").click()
    shoot(page, "queue-direction", narrow_fits=True)
    seen = []
    for turn in range(3):
        item = page.get_by_test_id("queue-item")
        key = item.get_attribute("data-key")
        assert key not in seen
        seen.append(key)
        expect(item.get_by_test_id("queue-criteria")).to_be_visible()
        expect(item.get_by_test_id("queue-validity")).to_be_visible()
        act = Actions(page)
        if turn == 0:  # keyboard only: « Valider » has the focus
            act.press("Enter")
        else:
            act.click(page.get_by_role("button", name=re.compile(r"^(Valider|Confirmer le lien)$")))
        expect(page.get_by_role("alert").first).to_contain_text(re.compile(r"validée|confirmé"))
        assert act.count <= 2, act.count
    # A refusal: its reason, then the button; without a reason the field says so.
    item_key = page.get_by_test_id("queue-item").get_attribute("data-key")
    act = Actions(page)
    act.click(page.get_by_role("button", name="Refuser"))
    expect(page.locator("#reason-error")).to_have_text("Indiquez le motif du refus.")
    expect(page.get_by_test_id("queue-item")).to_have_attribute("data-key", item_key)
    act = Actions(page)
    act.fill(page.get_by_label("Motif du refus"), "Document non signé")
    act.click(page.get_by_role("button", name="Refuser"))
    # The fourth item may be a proof (« refusée ») or a claim on one (« lien … refusé »).
    expect(page.get_by_role("alert").first).to_contain_text(re.compile(r"refusée?"))
    assert act.count <= 2


@pytest.mark.parametrize("role", ["direction", "qualite", "tpm", "auditeur", "admin"])
def test_every_home_screenshot(page: Page, server, role):
    log_in(page, server, role)
    expect(page.locator("h1")).to_be_visible()
    shoot(page, f"home-{role}", narrow_fits=role in {"direction", "qualite"})
    page.goto(f"{server.url}/campagnes/1/preparation")
    shoot(page, f"dashboard-{role}")


NARROW_PAGES = ["/", "/campagnes", "/campagnes/1", "/campagnes/1/preparation",
                "/campagnes/1/preparation/criteres/3", "/preuves/a-valider", "/preuves/",
                "/preuves/1", "/campagnes/1/actions", "/campagnes/1/calendrier",
                "/campagnes/1/instances", "/campagnes/1/indicateurs/",
                "/campagnes/1/indicateurs/mois"]
# The indicators page was 1031 px wide: a visually hidden label (position: absolute) in a far
# cell escaped its table's scrolling frame; .table-responsive is now its containing block.


def test_main_pages_do_not_scroll_sideways_at_390_px(page: Page, server):
    """Wide tables scroll inside their own box; the page itself never scrolls sideways."""
    log_in(page, server, "direction")
    page.set_viewport_size({"width": 390, "height": 900})
    wide = {}
    for path in NARROW_PAGES:
        page.goto(f"{server.url}{path}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            wide[path] = overflow
    assert wide == {}



def test_the_indicators_page_fits_a_390_px_screen(page: Page, server):
    """Screenshots of the indicators page; at 390 px its table scrolls inside its frame."""
    log_in(page, server, "direction")
    page.goto(f"{server.url}/campagnes/1/indicateurs/")
    expect(page.get_by_test_id("indicator-table")).to_be_visible()
    shoot(page, "indicators-direction", narrow_fits=True)
