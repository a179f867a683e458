"""The holes a red team found (issue 12): each test failed before its guard existed."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from audit_tracker.extensions import db
from audit_tracker.models import Campaign, Framework, IndicatorEntry, Role

# --------------------------------------------------------------------- 1. spreadsheet bombs

SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def inline_cell(text: str, ref: str = "") -> bytes:
    at = f' r="{ref}"' if ref else ""
    return f'<c{at} t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def workbook_with_sheet(chunks) -> bytes:
    """A real openpyxl workbook whose first sheet is replaced by the given XML chunks."""
    workbook = Workbook()
    workbook.active.append(["site"])
    plain = io.BytesIO()
    workbook.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename != SHEET:
                target.writestr(item.filename, source.read(item.filename))
        with target.open(SHEET, "w", force_zip64=True) as sheet:
            for chunk in chunks:
                sheet.write(chunk)
    return out.getvalue()


def deflate_bomb() -> bytes:
    """About 160 KB that inflate to 40 MB of rows (the red team's was 128 KB)."""
    header = b"<row>" + b"".join(inline_cell(n) for n in ("site", "mois", "entrees")) + b"</row>"
    row = b"<row>" + inline_cell("tpm") + inline_cell("2018-03") + inline_cell("1") + b"</row>"
    block = row * (1024 * 1024 // len(row))

    def chunks():
        yield SHEET_HEAD + b"<sheetData>" + header
        for _ in range(40):
            yield block
        yield b"</sheetData></worksheet>"

    return workbook_with_sheet(chunks())


def far_row_bomb() -> bytes:
    """A few hundred bytes: a sheet claiming every column and a cell on its last row."""
    return workbook_with_sheet([
        SHEET_HEAD, b'<dimension ref="A1:XFD1048576"/><sheetData>',
        b'<row r="1">', inline_cell("site", "A1"), inline_cell("mois", "B1"),
        inline_cell("entrees", "C1"), b"</row>",
        b'<row r="1048576">', inline_cell("tpm", "XFD1048576"), b"</row>",
        b"</sheetData></worksheet>"])


BOMBS = [
    pytest.param(deflate_bomb, "rchive suspecte (taux de compression anormal)", id="deflate"),
    pytest.param(far_row_bomb, "dépasse 10000 lignes", id="far-row"),
]


def campaign_url(path: str = "") -> str:
    campaign_id = db.session.scalar(select(Campaign.id).limit(1))
    return f"/campagnes/{campaign_id}/indicateurs/{path}"


@pytest.mark.parametrize(("bomb", "message"), BOMBS)
def test_a_spreadsheet_bomb_is_refused_fast_by_the_indicator_import(client, auth, demo,
                                                                    bomb, message):
    raw = bomb()
    assert len(raw) < 200_000
    auth.login_demo(demo, "tpm")  # a site manager may import
    before = db.session.scalar(select(func.count(IndicatorEntry.id)))
    started = time.perf_counter()
    response = client.post(campaign_url("import"), data={
        "file": (io.BytesIO(raw), "indicateurs.xlsx")})
    elapsed = time.perf_counter() - started
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 400
    assert message in page and "rien n’a été importé" in page
    assert elapsed < 5, f"{elapsed:.1f} s"
    db.session.expire_all()
    assert db.session.scalar(select(func.count(IndicatorEntry.id))) == before


@pytest.mark.parametrize(("bomb", "message"), BOMBS)
def test_a_spreadsheet_bomb_is_refused_fast_by_the_referentiel_import(client, auth, make_user,
                                                                     bomb, message):
    raw = bomb()
    auth.login(make_user(Role.ADMIN))
    before = db.session.scalar(select(func.count(Framework.id)))
    started = time.perf_counter()
    response = client.post("/referentiels/import", data={
        "code": "grille-e2c", "version": "1", "name": "Grille", "file": (io.BytesIO(raw),
                                                                         "grille.xlsx")},
        content_type="multipart/form-data")
    elapsed = time.perf_counter() - started
    page = response.get_data(as_text=True)
    assert message in page and "rien n’a été importé" in page
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert db.session.scalar(select(func.count(Framework.id))) == before


def test_an_honest_workbook_with_empty_formatted_rows_still_reads():
    from audit_tracker import tables

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["site", "mois", "entrees"])
    sheet.append(["tpm", "2018-03", 4])
    sheet.cell(row=40, column=2).number_format = "0"  # styled, empty
    out = io.BytesIO()
    workbook.save(out)
    assert tables.xlsx_rows(out.getvalue()) == [["site", "mois", "entrees"],
                                               ["tpm", "2018-03", 4]]


# ------------------------------------------------------------------------- 5. unbounded text


def demo_campaign() -> Campaign:
    return db.session.scalar(select(Campaign).where(Campaign.name == "Labellisation E2C 2018"))


def pre_audit():
    from audit_tracker.models import MilestoneKind

    return next(m for m in demo_campaign().milestones if m.kind is MilestoneKind.PRE_AUDIT)


def demo_account(local_part: str):
    from audit_tracker.models import User

    return db.session.scalar(select(User).where(User.email == f"{local_part}@e2c-var.example"))


def finding_count() -> int:
    from audit_tracker.models import Finding

    return db.session.scalar(select(func.count()).select_from(Finding))


def test_a_14_mb_description_through_the_api_is_refused_and_nothing_stored(client, demo,
                                                                          token_for):
    headers = token_for(demo_account("qualite"))
    before = finding_count()
    response = client.post("/api/v1/findings", headers=headers, json={
        "event_id": pre_audit().id, "framework": "qualiopi-v9", "type": "nc_mineure",
        "title": "Tarifs", "description": "x" * 14_000_000, "criteria": ["1"]})
    assert response.status_code == 400
    assert "Le champ « description » dépasse 20\u202f000 caractères" in response.json["error"]
    db.session.expire_all()
    assert finding_count() == before


def test_a_nul_byte_in_a_title_through_a_form_is_refused_and_nothing_stored(client, auth,
                                                                            demo):
    from audit_tracker.models import Action

    auth.login_demo(demo, "qualite")
    before = db.session.scalar(select(func.count()).select_from(Action))
    response = client.post(f"/campagnes/{demo_campaign().id}/actions/nouvelle", data={
        "title": "Former\x00les référents", "description": "",
        "owner_id": str(demo_account("qualite").id), "site_id": "0", "due_on": "2026-12-20",
        "criteria": "", "closing_evidence_id": "0", "lock_version": ""})
    assert "Le champ « titre » contient un caractère invalide" in \
        response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Action)) == before


def test_a_14_mb_description_through_a_form_never_reaches_the_database(client, auth, demo):
    from audit_tracker.models import Action

    auth.login_demo(demo, "qualite")
    before = db.session.scalar(select(func.count()).select_from(Action))
    response = client.post(f"/campagnes/{demo_campaign().id}/actions/nouvelle", data={
        "title": "Former", "description": "x" * 14_000_000, "owner_id": "0", "site_id": "0",
        "due_on": "", "criteria": "", "closing_evidence_id": "0", "lock_version": ""})
    # The form's own Length validator already refused it before issue 12; kept as a guard.
    assert "20000" in response.get_data(as_text=True).replace("\u202f", "")
    assert db.session.scalar(select(func.count()).select_from(Action)) == before


def test_the_limit_holds_for_a_service_called_from_a_command_too(app, demo):
    from audit_tracker.domain.limits import ValueTooLarge

    campaign = demo_campaign()
    campaign.description = "x" * 20_001
    with pytest.raises(ValueTooLarge):
        db.session.flush()
    db.session.rollback()
    campaign = demo_campaign()
    campaign.description = "x" * 20_000  # at the limit: kept
    db.session.commit()
    db.session.expire_all()
    assert len(demo_campaign().description) == 20_000


# ------------------------------------------------------------------------ 4. dangerous names

TEXT = b"Bonjour,\r\nvoici le compte rendu du comite de pilotage.\r\n"


@pytest.mark.parametrize("name", [
    "rapport.vbs", "lancer.bat", "lancer.cmd", "page.hta", "script.ps1", "lien.url", "app.js",
    "page.html", "page.htm", "programme.exe", "raccourci.lnk", "registre.reg", "logo.svg",
    "note.txt.vbs", "NOTE.VBS", "note.vbs.", "note.vbs ", "donnees.xml", "script.py",
])
def test_text_content_under_an_active_extension_is_refused(tmp_path, name):
    from audit_tracker.evidence.filetypes import RefusedFile, inspect_file

    path = tmp_path / "upload"
    path.write_bytes(TEXT)
    with pytest.raises(RefusedFile) as refused:
        inspect_file(path, name)
    assert "ne correspond pas au contenu (Texte)" in str(refused.value)


@pytest.mark.parametrize(("content", "name", "fragment"), [
    pytest.param(b"x", "rapport.pdf", "ne correspond pas au contenu", id="one-byte-pdf"),
    pytest.param(b"%PDF-", "rapport.pdf", "ce PDF est vide ou tronqué", id="bare-pdf-header"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "photo.pdf", "(Image PNG)", id="png-as-pdf"),
    pytest.param(TEXT * 2000 + b"<script>alert(1)</script>", "note.txt", "pages HTML",
                 id="script-after-the-head"),
    pytest.param(TEXT * 40 + b'nom;lien\nx;<a href="javascript:alert(1)">ici</a>\n', "liste.csv",
                 "pages HTML", id="link-in-a-csv"),
    pytest.param(TEXT * 3000 + b"<iframe src=//evil.example>", "note.txt", "pages HTML",
                 id="iframe-far-down"),
    pytest.param(TEXT * 100 + b"<svg onload=alert(1)>", "note.txt", "pages HTML", id="svg-later"),
    # "<" ends the first read (64 Ki characters: no "\r\n" here, which would be read as one),
    # "script>" opens the next one, which holds no "<" at all.
    pytest.param((TEXT.replace(b"\r", b"") * 2000)[:64 * 1024 - 1] + b"<script>alert(1)",
                 "note.txt", "pages HTML", id="tag-cut-between-reads"),
])
def test_files_whose_name_or_body_lies_are_refused(tmp_path, content, name, fragment):
    from audit_tracker.evidence.filetypes import RefusedFile, inspect_file

    path = tmp_path / "upload"
    path.write_bytes(content)
    with pytest.raises(RefusedFile) as refused:
        inspect_file(path, name)
    assert fragment in str(refused.value)


@pytest.mark.parametrize("name", ["note.txt", "NOTE.TXT", "liste.csv", "compte-rendu", "a.md"])
def test_text_under_a_text_name_is_still_accepted(tmp_path, name):
    from audit_tracker.evidence.filetypes import inspect_file

    path = tmp_path / "upload"
    path.write_bytes(TEXT + b"1 < 2 et 3 > 2 ; <ok> <abc\n")
    assert inspect_file(path, name).media_type in {"text/plain", "text/csv"}


def test_a_dangerous_name_is_refused_through_the_upload_page_and_nothing_stored(
        client, auth, demo, storage):
    from audit_tracker.models import Evidence

    auth.login_demo(demo, "qualite")
    before = db.session.scalar(select(func.count()).select_from(Evidence))
    keys = set(storage.keys())
    response = client.post("/preuves/nouvelle", data={
        "kind": "fichier", "title": "", "description": "", "site_id": "0",
        "file": (io.BytesIO(TEXT), "facture.vbs")}, content_type="multipart/form-data")
    assert "« .vbs » ne correspond pas au contenu (Texte)" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == before
    assert set(storage.keys()) == keys


# --------------------------------------------------------------------------------- 6. headers

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def html_pages(campaign) -> list[str]:
    from audit_tracker.models import MilestoneKind

    audit = next(m for m in campaign.milestones if m.kind is MilestoneKind.INITIAL_AUDIT)
    pre = next(m for m in campaign.milestones if m.kind is MilestoneKind.PRE_AUDIT)
    base = f"/campagnes/{campaign.id}"
    return ["/", base, f"{base}/calendrier", f"{base}/preparation",
            f"{base}/preparation/go-no-go/{audit.id}", f"{base}/audits/{pre.id}",
            f"{base}/indicateurs/", f"{base}/dossier", "/preuves/", "/preuves/nouvelle",
            "/referentiels/", "/compte/calendrier"]


def assert_page_policy(response) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split(
        "style-src-attr")[0]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in {"same-origin", "no-referrer"}


def test_every_html_page_has_a_strict_policy_and_nothing_inline_it_would_block(client, auth,
                                                                               demo_today):
    auth.login_demo(demo_today, "direction")
    for url in html_pages(db.session.scalar(select(Campaign).limit(1))):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_page_policy(response)
        page = response.get_data(as_text=True)
        assert not INLINE_SCRIPT.search(page), url
        assert "<style" not in page, url
        assert not INLINE_HANDLER.search(page), (url, INLINE_HANDLER.search(page))


def test_the_login_page_and_an_error_page_have_the_policy_too(client):
    assert_page_policy(client.get("/connexion"))
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert_page_policy(response)


def test_json_exports_and_calendars_may_run_nothing(client, demo, token_for):
    response = client.get("/api/v1/campaigns", headers=token_for(demo_account("qualite")))
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_development_server_names_no_software(app):
    """create_app (the ``app`` fixture) quiets the development server's banner."""
    import threading
    import urllib.request

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/connexion") as answer:
            banner = answer.headers.get("Server", "")
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        server.shutdown()
    assert "Werkzeug" not in banner and "Python" not in banner


# ------------------------------------------------------------------------------------ 9. 500s


@pytest.mark.parametrize("path", [
    "/campagnes/{big}", "/campagnes/{big}/preparation", "/preuves/{big}",
    "/referentiels/{big}", "/campagnes/{campaign}/actions/{big}",
    "/campagnes/{campaign}/dossier/{big}",
])
def test_an_id_beyond_any_column_is_a_french_404(client, auth, demo, path):
    auth.login_demo(demo, "direction")
    url = path.format(big=2**63 + 1, campaign=demo_campaign().id)
    response = client.get(url)
    assert response.status_code == 404, url
    assert "Cette page n’existe pas ou plus." in response.get_data(as_text=True)


@pytest.mark.parametrize(("value", "warned"), [
    ("%20", False), ("%09", False), ("2018-02-30", True), ("x" * 300, True)])
def test_a_blank_or_bad_reference_date_falls_back_to_the_next_audit(client, auth, demo, value,
                                                                     warned):
    auth.login_demo(demo, "direction")
    response = client.get(f"/campagnes/{demo_campaign().id}/preparation?date={value}")
    assert response.status_code == 200
    assert ("Date de référence illisible" in response.get_data(as_text=True)) is warned


@pytest.mark.parametrize("body", [
    pytest.param('{"framework": "\\ud800", "title": "x"}', id="lone-surrogate-in-a-lookup"),
    pytest.param('{"title": "\\udfff"}', id="lone-low-surrogate"),
    pytest.param("[" * 100_000 + "]" * 100_000, id="100000-deep-list"),
    pytest.param('{"a":' * 50_000 + "1" + "}" * 50_000, id="50000-deep-object"),
    pytest.param('{"event_id": 1' + "0" * 30 + "}", id="30-digit-integer"),
    pytest.param('{"event_id": 1' + "0" * 5000 + "}", id="5000-digit-integer"),
])
def test_hostile_json_bodies_get_a_french_400(client, demo, token_for, body):
    headers = {**token_for(demo_account("qualite")), "Content-Type": "application/json"}
    before = finding_count()
    response = client.post("/api/v1/findings", data=body, headers=headers)
    assert response.status_code == 400
    assert response.json["error"]
    assert finding_count() == before


def test_a_full_disk_while_spooling_an_upload_is_a_507_stockage_plein(app, client, demo,
                                                                     token_for, tmp_path):
    import subprocess

    from audit_tracker.models import Evidence

    full = tmp_path / "full"
    full.mkdir()
    mount = ["/usr/bin/mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)]
    mounted = subprocess.run(mount, capture_output=True, check=False)  # noqa: S603
    if mounted.returncode != 0:
        pytest.skip("a small tmpfs cannot be mounted here (needs root)")
    try:
        app.config["UPLOAD_TMP_DIR"] = str(full)
        before = db.session.scalar(select(func.count()).select_from(Evidence))
        response = client.post("/api/v1/evidence", headers=token_for(demo_account("qualite")),
                               data={"title": "Gros", "site": "",
                                     "file": (io.BytesIO(TEXT * 5000), "gros.txt")},
                               content_type="multipart/form-data")
        assert response.status_code == 507
        assert response.json["error"].startswith("Stockage plein")
        assert db.session.scalar(select(func.count()).select_from(Evidence)) == before
        assert list(full.iterdir()) == []  # the partial spool file was removed
    finally:
        subprocess.run(["/usr/bin/umount", str(full)], check=False)  # noqa: S603


# ------------------------------------------------------------------- 10. lost update via the API


@pytest.mark.parametrize(("kind", "body", "word"), [
    ("findings", {"title": "Écrasé"}, "du constat"),
    ("actions", {"title": "Écrasée"}, "de l’action"),
])
def test_a_patch_without_lock_version_is_refused_and_changes_nothing(client, demo, token_for,
                                                                     kind, body, word):
    from .test_api_findings import action_body, finding_body

    headers = token_for(demo_account("qualite"))
    created = client.post(f"/api/v1/{kind}", headers=headers,
                          json=finding_body() if kind == "findings" else action_body())
    assert created.status_code == 201, created.json
    url = f"/api/v1/{kind}/{created.json['id']}"
    response = client.patch(url, json=body, headers=headers)
    assert response.status_code == 400
    assert f"Indiquez « lock_version » : la version {word} que vous avez lue (GET)" in \
        response.json["error"]
    kept = client.get(url, headers=headers).json
    assert (kept["title"], kept["lock_version"]) == (created.json["title"], 1)
    sent = client.patch(url, json={**body, "lock_version": 1}, headers=headers)
    assert sent.status_code == 200 and sent.json["title"] == body["title"]


# --------------------------------------------------------- 7. search obeys the download rule


@pytest.fixture
def personal_proof(demo, storage, receive):
    """A file on the Cavem site holding a learner's name, flagged as personal data."""
    from datetime import date

    from audit_tracker.evidence.service import EvidenceFields, create_evidence
    from audit_tracker.models import Site

    cavem = db.session.scalar(select(Site).where(Site.code == "cavem"))
    upload = receive("emargement.txt", content="Émargement du 12 mars\nLéa Zorglubienne, "
                     "née le 3 mai 2001, QPV La Beaucaire\n".encode())
    author = demo_account("qualite")
    evidence = create_evidence(db.session, storage, school=author.school, author=author,
                               fields=EvidenceFields(title="Émargement de mars", site=cavem,
                                                     personal_data=True,
                                                     retention_until=date(2030, 1, 1)),
                               upload=upload)
    db.session.commit()
    return evidence


@pytest.mark.parametrize(("who", "finds_by_text", "sees"), [
    ("qualite", True, True), ("direction", True, True), ("cavem", True, True),  # may download
    ("auditeur", False, True),  # reads every proof, may not download this one
    ("tpm", False, False),  # another site's proof: not even listed
])
def test_the_text_of_a_personal_data_file_is_searchable_only_by_who_may_download_it(
        client, auth, demo, token_for, personal_proof, who, finds_by_text, sees):
    from audit_tracker.evidence.service import SearchFilters, can_download, search

    user = demo_account(who)
    assert can_download(user, personal_proof) is finds_by_text
    found = {e.id for e in search(db.session, user, SearchFilters(query="Zorglubienne"))}
    assert (personal_proof.id in found) is finds_by_text
    # What the proof's page shows its readers still finds it: its title.
    assert (personal_proof.id in {e.id for e in search(db.session, user,
                                                       SearchFilters(query="mars"))}) is sees
    api = client.get("/api/v1/evidence?q=Zorglubienne", headers=token_for(user))
    assert (personal_proof.id in {e["id"] for e in api.json}) is finds_by_text
    auth.login_demo(demo, who)
    page = client.get("/preuves/?q=Beaucaire").get_data(as_text=True)
    assert (f'href="/preuves/{personal_proof.id}"' in page) is finds_by_text


# ------------------------------------------------------------------------------- 11. the host


def test_the_sqlite_file_is_readable_by_its_owner_only(app):
    from pathlib import Path

    from sqlalchemy.engine import make_url

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL keeps its files itself")
    path = Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    assert path.exists()
    assert path.stat().st_mode & 0o777 == 0o600


def test_stored_proofs_and_dossiers_are_0600_in_0700_folders(app, tmp_path):
    from audit_tracker.storage import DOSSIERS, EVIDENCE, new_key, storage_for

    for namespace in (EVIDENCE, DOSSIERS):
        storage = storage_for(app, namespace)
        key = new_key()
        source = tmp_path / f"{namespace.name}.pdf"
        source.write_bytes(b"%PDF-1.4 test")
        source.chmod(0o644)  # as a PDF or ZIP library writes it under a 022 umask
        storage.put(key, source)
        stored = storage._path(key)
        assert stored.stat().st_mode & 0o777 == 0o600
        assert stored.parent.stat().st_mode & 0o777 == 0o700
        assert storage.root.stat().st_mode & 0o777 == 0o700


def test_the_calendar_feed_secret_is_not_in_the_database(client, auth, demo):
    auth.login_demo(demo, "qualite")
    client.post("/compte/calendrier", data={"action": "creer"})
    page = client.get("/compte/calendrier").get_data(as_text=True)
    url = re.search(r'value="http://localhost(/calendrier/[^"]+\.ics)"', page)[1]
    assert client.get(url).status_code == 200
    stored = demo_account("qualite").calendar_token
    assert stored and stored not in url
    # What a copy of the database holds opens no feed.
    assert client.get(f"/calendrier/{stored}.ics").status_code == 404
    user_id = demo_account("qualite").id
    assert client.get(f"/calendrier/{user_id}-{stored[:43]}.ics").status_code == 404


def test_an_api_token_notes_when_it_was_last_used_once_a_minute(client, demo):
    from audit_tracker.models import ApiToken

    token, clear = ApiToken.issue(demo_account("qualite"), "tests")
    db.session.add(token)
    db.session.commit()
    assert token.last_used_at is None
    headers = {"Authorization": f"Bearer {clear}"}
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 200
    db.session.expire_all()
    first = db.session.get(ApiToken, token.id).last_used_at
    assert first is not None
    assert client.get("/api/v1/frameworks", headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == first  # throttled
