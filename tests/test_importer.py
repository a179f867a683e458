"""Référentiel import: the shipped frameworks, YAML / CSV / XLSX files, refusals that name every
problem and leave nothing behind, new versions beside old ones, the ``flask referentiel`` commands
and the admin import page.

The files read here live in ``tests/data/referentiels/``: ``grille.*`` hold the same small grid in
each format, the others are broken on purpose.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from audit_tracker.extensions import db
from audit_tracker.models import (
    Criterion,
    CriterionMapping,
    FindingType,
    Framework,
    FrameworkCategory,
    Role,
    Section,
)
from audit_tracker.referentiel.importer import (
    ImportRefused,
    Problem,
    default_scale,
    latest_framework,
    parse_file,
    parse_yaml,
    save_framework,
)
from audit_tracker.referentiel.service import (
    DATA_DIR,
    list_frameworks,
    load_shipped_referentiels,
    related_criteria,
    shipped_mappings,
)

DATA = Path(__file__).parent / "data" / "referentiels"

#: What the import form or ``--code/--version/--name`` give a spreadsheet.
META = {"code": "grille-e2c", "version": "1", "name": "Grille E2C de test"}
SPREADSHEET_OPTIONS = ["--code", "grille-e2c", "--version", "1", "--name", "Grille E2C de test"]

#: The small grid every ``grille.*`` file describes.
GRID_SECTIONS = [
    ("A", "Gouvernance et moyens dédiés"),
    ("B", "Relation privilégiée avec les entreprises"),
    ("C", "Démarche qualité intégrée"),
]
GRID_CODES = {"A": ["A1", "A2"], "B": ["B1", "B2"], "C": ["C1"]}
GRID_INDISPENSABLE = {"A1", "B1"}
A1_TITLE = "L’école dispose de moyens humains et matériels qui lui sont dédiés"
A1_GUIDANCE = "Organigramme, locaux propres ; budget identifié."

VALID_FILES = [
    pytest.param("grille.yaml", id="yaml"),
    pytest.param("grille-utf8-bom.csv", id="csv-utf8-bom"),
    pytest.param("grille-cp1252.csv", id="csv-cp1252-french-excel"),
    pytest.param("grille.xlsx", id="xlsx"),
]
SPREADSHEETS = [
    pytest.param("grille-utf8-bom.csv", id="csv"),
    pytest.param("grille.xlsx", id="xlsx"),
]

#: Each broken file with every problem it must produce: (exact place, fragment of the message).
BROKEN_FILES = [
    pytest.param("yaml-syntaxe.yaml", [("ligne 11, colonne 34", "YAML illisible")],
                 id="yaml-syntax-error"),
    pytest.param("yaml-champs-manquants.yaml", [
        ("ligne 1", "le champ « version » est obligatoire"),
        ("ligne 1", "le champ « name » est obligatoire"),
        ("ligne 8", "le champ « title » est obligatoire"),
    ], id="yaml-missing-fields"),
    pytest.param("yaml-critere-en-double.yaml", [("ligne 15", "critère « A1 » en double")],
                 id="yaml-duplicate-criterion"),
    pytest.param("yaml-categorie-inconnue.yaml", [("ligne 12", "catégorie(s) inconnue(s) : CFA")],
                 id="yaml-unknown-category"),
    pytest.param("yaml-constat-inconnu.yaml",
                 [("ligne 11", "type(s) de constat inconnu(s) : nc_critique")],
                 id="yaml-unknown-finding-type"),
    pytest.param("yaml-section-vide.yaml", [("ligne 12", "la section « B » n’a aucun critère")],
                 id="yaml-section-without-criteria"),
    pytest.param("csv-colonne-manquante.csv",
                 [("ligne 1", "colonne obligatoire « title » absente")],
                 id="csv-missing-column"),
    pytest.param("csv-titres-manquants.csv", [
        ("ligne 3, colonne « title »", "valeur obligatoire manquante"),
        ("ligne 5, colonne « title »", "valeur obligatoire manquante"),
    ], id="csv-rows-without-title"),
    pytest.param("csv-plusieurs-problemes.csv", [
        ("ligne 3, colonne « title »", "valeur obligatoire manquante"),
        ("ligne 4", "le champ « indispensable » doit valoir oui ou non (reçu « peut-être »)"),
        ("ligne 5", "critère « A1 » en double"),
        ("ligne 6, colonne « section_code »", "valeur obligatoire manquante"),
        ("ligne 7", "code de critère « C 1 » invalide"),
    ], id="csv-several-problems"),
    pytest.param("xlsx-titres-manquants.xlsx", [
        ("ligne 4, colonne « title »", "valeur obligatoire manquante"),
        ("ligne 6, colonne « code »", "valeur obligatoire manquante"),
    ], id="xlsx-rows-without-title-or-code"),
    pytest.param("xlsx-corrompu.xlsx", [("", "classeur XLSX illisible")], id="xlsx-corrupt"),
    pytest.param("format-inconnu.ods", [("", "format non pris en charge : .ods")],
                 id="unsupported-extension"),
    pytest.param("vide.csv", [("", "le fichier est vide")], id="empty-csv"),
    pytest.param("vide.yaml", [("", "le fichier ne décrit pas un référentiel")], id="empty-yaml"),
    pytest.param("binaire.csv", [("", "ce fichier n’est pas un CSV texte")], id="binary-as-csv"),
]
#: The upload form itself turns away an unknown extension, before the importer sees the file.
BROKEN_UPLOADS = [p for p in BROKEN_FILES if not p.values[0].endswith(".ods")]

COUNTED = (Framework, Section, Criterion, FrameworkCategory, FindingType, CriterionMapping)


# ------------------------------------------------------------------------------------------ helpers


def refusal(name: str, meta: dict | None = META, raw: bytes | None = None) -> list[Problem]:
    """The problems ``parse_file`` gives for a fixture file, or for ``raw`` (it must refuse it)."""
    with pytest.raises(ImportRefused) as refused:
        parse_file(name, (DATA / name).read_bytes() if raw is None else raw, meta)
    return refused.value.problems


def assert_problems_are(problems: list[Problem], expected: list[tuple[str, str]]) -> None:
    """Each expected (place, fragment) matches its own problem, and there is no other problem."""
    left = list(problems)
    for where, fragment in expected:
        match = next((p for p in left if p.where == where and fragment in p.message), None)
        assert match is not None, f"no problem « {where} : …{fragment}… » in {problems}"
        left.remove(match)
    assert left == [], f"unexpected problems: {left}"


def row_counts() -> dict[str, int]:
    """How many rows each référentiel table holds."""
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in COUNTED
    }


def criterion(framework: Framework, code: str) -> Criterion:
    """The criterion of ``framework`` with this code."""
    return db.session.scalar(
        select(Criterion).where(Criterion.framework_id == framework.id, Criterion.code == code)
    )


def grid_layout(framework: Framework) -> list[tuple[str, str, list[str]]]:
    """(section code, title, criterion codes) in the framework's order."""
    return [(s.code, s.title, [c.code for c in s.criteria]) for s in framework.sections]


def cli_import(runner, path: Path, *options: str):
    """``flask referentiel import PATH OPTIONS``."""
    db.session.commit()  # the command commits or rolls back the same session
    return runner.invoke(args=["referentiel", "import", str(path), *options])


def upload(client, filename: str, raw: bytes | None = None, **fields):
    """POST the import form with a fixture file (or ``raw``) under ``filename``."""
    data = {"code": "", "version": "", "name": "", **fields}
    content = (DATA / filename).read_bytes() if raw is None else raw
    data["file"] = (io.BytesIO(content), filename)
    return client.post("/referentiels/import", data=data, content_type="multipart/form-data")


def problems_on_page(page: str) -> str:
    """The unescaped HTML of the page's list of import problems."""
    start = page.index('data-testid="import-problems"')
    return html.unescape(page[start:page.index("</div>", start)])


# ---------------------------------------------------------------------------- shipped référentiels


@pytest.mark.parametrize(
    ("code", "sections", "criteria", "indispensable", "cycle", "provisional"), [
    pytest.param("qualiopi-v9", 7, 32, 0, 3, False, id="qualiopi-v9"),
    pytest.param("e2c-label", None, None, 4, 4, True, id="e2c-label"),
])
def test_shipped_framework_has_its_official_numbers(
        referentiels, code, sections, criteria, indispensable, cycle, provisional):
    """Sections, criteria, indispensable criteria, cycle and provisional flag of each file."""
    framework = latest_framework(db.session, code)
    summary = next(s for s in list_frameworks(db.session) if s.framework.id == framework.id)
    if sections is not None:
        assert len(framework.sections) == sections
        assert summary.criteria_count == len(framework.criteria) == criteria
    assert summary.indispensable_count == indispensable
    assert sum(c.indispensable for c in framework.criteria) == indispensable
    assert framework.cycle_years == cycle
    assert framework.provisional is provisional


def test_qualiopi_v9_allows_only_a_major_nonconformity_on_its_17_critical_indicators(referentiels):
    """Exactly indicators 4 5 6 7 10 11 14 15 16 20 21 22 26 27 29 31 32 are « nc_majeure » only."""
    qualiopi = latest_framework(db.session, "qualiopi-v9")
    major_only = [c.code for c in qualiopi.criteria if c.finding_types == ["nc_majeure"]]
    assert major_only == ["4", "5", "6", "7", "10", "11", "14", "15", "16", "20", "21", "22",
                          "26", "27", "29", "31", "32"]
    assert [(t.code, t.kind.value, t.severity) for t in qualiopi.finding_types] == [
        ("nc_mineure", "nonconformity", 1), ("nc_majeure", "nonconformity", 2)]


def test_e2c_label_uses_the_afnor_scale_with_the_commission_preconisation(referentiels):
    """Point fort → non-conformité majeure, in the AFNOR report order, plus préconisation."""
    e2c = latest_framework(db.session, "e2c-label")
    assert [(t.code, t.kind.value, t.severity) for t in e2c.finding_types] == [
        (s["code"], s["kind"], s["severity"]) for s in default_scale()]
    assert [t.code for t in e2c.finding_types] == [
        "point_fort", "piste_progres", "preconisation", "point_sensible", "point_vigilance",
        "nc_mineure", "nc_majeure"]


def test_shipped_scales_carry_their_deadline_rules(referentiels):
    """NC majeure: 3 months then 1 to verify; NC mineure: 6 months, escalates to majeure."""
    for code in ("qualiopi-v9", "e2c-label"):
        types = {t.code: t for t in latest_framework(db.session, code).finding_types}
        major, minor = types["nc_majeure"], types["nc_mineure"]
        assert (major.action_months, major.verify_months, major.escalates_to) == (3, 1, None)
        assert (minor.action_months, minor.verify_months, minor.escalates_to) == (
            6, None, "nc_majeure")
        assert major.rule and minor.rule
    e2c = {t.code: t for t in latest_framework(db.session, "e2c-label").finding_types}
    assert e2c["point_sensible"].before_next_audit is True
    assert e2c["point_fort"].rule == "" and e2c["point_fort"].action_months is None


@pytest.mark.parametrize("deadline, fragment", [
    ("{action_months: 0}", "« action_months » doit être un nombre de mois entre 1 et 60"),
    ("{action_months: 3, before_next_audit: true}", "choisissez entre un délai en mois"),
    ("{escalates_to: nc_fantome}", "type de constat « nc_fantome » inconnu"),
    ("[3]", "« deadline » doit être un objet"),
])
def test_bad_deadline_rules_are_refused(deadline, fragment):
    """A deadline rule that cannot be applied is refused with the reason."""
    text = (DATA / "grille.yaml").read_text(encoding="utf-8").replace(
        "kind: nonconformity, severity: 1}",
        f"kind: nonconformity, severity: 1, deadline: {deadline}}}", 1)
    assert "deadline" in text
    with pytest.raises(ImportRefused) as refused:
        parse_yaml(text)
    assert any(fragment in str(p) for p in refused.value.problems), refused.value.problems


def test_mapping_link_is_seen_from_the_e2c_criterion_and_from_the_qualiopi_indicator(referentiels):
    """E2C C1 ↔ Qualiopi 4 and 8, with the mapping's note, whichever side one looks from."""
    e2c = latest_framework(db.session, "e2c-label")
    qualiopi = latest_framework(db.session, "qualiopi-v9")
    c1 = criterion(e2c, "C1")
    from_e2c = {(c.framework.code, c.code): note for c, note in related_criteria(db.session, c1)}
    assert set(from_e2c) == {("qualiopi-v9", "4"), ("qualiopi-v9", "8")}
    assert from_e2c[("qualiopi-v9", "4")] == (
        "Diagnostic initial et positionnement des acquis à l’entrée")
    from_qualiopi = {(c.framework.code, c.code)
                     for c, _ in related_criteria(db.session, criterion(qualiopi, "4"))}
    assert ("e2c-label", "C1") in from_qualiopi


def test_every_shipped_mapping_link_exists_in_both_directions(referentiels):
    """Each (from, to) pair of the mapping files is found by related_criteria on both criteria."""
    pairs = 0
    for mapping in shipped_mappings():
        source = latest_framework(db.session, mapping["from"])
        target = latest_framework(db.session, mapping["to"])
        for link in mapping["links"]:
            origin = criterion(source, str(link["from"]))
            for code in link["to"]:
                destination = criterion(target, str(code))
                assert (destination.id, link["note"]) in [
                    (c.id, note) for c, note in related_criteria(db.session, origin)]
                assert (origin.id, link["note"]) in [
                    (c.id, note) for c, note in related_criteria(db.session, destination)]
                pairs += 1
    assert pairs > 0
    assert db.session.scalar(select(func.count(CriterionMapping.id))) == pairs


def test_loading_the_shipped_referentiels_twice_adds_nothing_the_second_time(referentiels):
    """The second load finds both frameworks there, adds no framework, row or link."""
    assert sorted(referentiels.added) == ["e2c-label v2026-provisoire", "qualiopi-v9 v9"]
    assert referentiels.mappings_added > 0
    before = row_counts()
    again = load_shipped_referentiels(db.session)
    db.session.commit()
    assert again.added == []
    assert sorted(again.already_there) == ["e2c-label v2026-provisoire", "qualiopi-v9 v9"]
    assert again.mappings_added == 0
    assert row_counts() == before


# ------------------------------------------------------------------------------ valid files, parsed


@pytest.mark.parametrize("name", VALID_FILES)
def test_valid_file_gives_the_grid_in_order_with_sections_and_indispensable_criteria(name):
    """YAML, CSV (UTF-8 with BOM, French Excel cp1252) and XLSX all read as the same grid."""
    spec = parse_file(name, (DATA / name).read_bytes(), META)
    assert (spec.code, spec.version) == ("grille-e2c", "1")
    assert [(s.code, s.title) for s in spec.sections] == GRID_SECTIONS
    assert {s.code: [c.code for c in s.criteria] for s in spec.sections} == GRID_CODES
    criteria = [c for s in spec.sections for c in s.criteria]
    assert {c.code for c in criteria if c.indispensable} == GRID_INDISPENSABLE
    assert criteria[0].title == A1_TITLE  # accents and the typographic apostrophe survive
    assert criteria[0].guidance == A1_GUIDANCE
    assert spec.criteria_count == 5


@pytest.mark.parametrize("name", SPREADSHEETS)
def test_spreadsheet_takes_its_identity_from_the_form_and_gets_the_afnor_scale(name):
    """Code, version, name and provisional come from the options; the scale is AFNOR's."""
    meta = {"code": "e2c-label", "version": "2026", "name": "Label E2C", "provisional": True}
    spec = parse_file(name, (DATA / name).read_bytes(), meta)
    assert (spec.code, spec.version, spec.name, spec.provisional) == (
        "e2c-label", "2026", "Label E2C", True)
    assert [t["code"] for t in spec.finding_scale] == [t["code"] for t in default_scale()]
    assert next(t for t in spec.finding_scale if t["code"] == "nc_majeure")["action_months"] == 3


@pytest.mark.parametrize("name", SPREADSHEETS)
def test_spreadsheet_without_code_version_and_name_is_refused(name):
    """A spreadsheet carries no identity: the three fields are asked for, by name."""
    assert_problems_are(refusal(name, meta={"code": "grille-e2c"}),
                        [("", "pour un tableur, indiquez aussi : version, name")])


@pytest.mark.parametrize(("cell", "expected"), [
    ("oui", True), ("Oui", True), ("OUI", True), ("non", False), ("Non", False),
    ("", False), ("true", True), ("false", False), ("1", True), ("0", False),
])
def test_indispensable_column_reads_oui_and_non(cell, expected):
    """« oui / non » (any case), true / false, 1 / 0 and an empty cell."""
    raw = f"section_code;code;title;indispensable\nA;A1;Titre;{cell}\n".encode()
    [section] = parse_file("g.csv", raw, META).sections
    assert section.criteria[0].indispensable is expected


@pytest.mark.parametrize("newline", [pytest.param("\n", id="LF"), pytest.param("\r\n", id="CRLF"),
                                     pytest.param("\r", id="CR-old-mac")])
@pytest.mark.parametrize("separator", [";", ","])
def test_csv_separator_and_line_endings_are_recognised(separator, newline):
    """Semicolon or comma, Unix, Windows or old Mac line endings: same two criteria."""
    lines = ["section_code", "code", "title"], ["A", "A1", "Premier"], ["A", "A2", "Second"]
    raw = newline.join(separator.join(cells) for cells in lines).encode() + newline.encode()
    spec = parse_file("g.csv", raw, META)
    assert [(c.code, c.title) for c in spec.sections[0].criteria] == [
        ("A1", "Premier"), ("A2", "Second")]


def test_quoted_csv_cell_keeps_its_semicolon_and_line_breaks():
    """A Markdown list in a quoted cell stays whole; the row count is not thrown off."""
    spec = parse_file("grille-utf8-bom.csv", (DATA / "grille-utf8-bom.csv").read_bytes(), META)
    a2 = spec.sections[0].criteria[1]
    assert a2.expected_evidence == "- compte rendu de comité\n- convention de partenariat"
    assert [c.code for s in spec.sections for c in s.criteria] == ["A1", "A2", "B1", "B2", "C1"]


def test_spreadsheet_applies_to_column_declares_the_categories_it_uses():
    """Category codes in « applies_to » become the framework's categories, in order of use."""
    raw = "section_code;code;title;applies_to\nA;A1;Titre;AF, CFA\nA;A2;Titre;\nA;A3;Titre;BC\n"
    spec = parse_file("g.csv", raw.encode(), META)
    assert [c["code"] for c in spec.categories] == ["AF", "CFA", "BC"]
    assert [c.applies_to for c in spec.sections[0].criteria] == [["AF", "CFA"], [], ["BC"]]


@pytest.mark.parametrize("column", ["section_code", "code", "title"])
def test_blank_looking_required_cell_is_reported_once_with_its_line_and_column(column):
    """A cell holding only spaces is missing: one problem, never a silently dropped row."""
    cells = {"section_code": "A", "code": "A2", "title": "Second"}
    cells[column] = "   "
    raw = ("section_code;code;title\nA;A1;Premier\n"
           f"{cells['section_code']};{cells['code']};{cells['title']}\n").encode()
    assert_problems_are(refusal("g.csv", raw=raw),
                        [(f"ligne 3, colonne « {column} »", "valeur obligatoire manquante")])


# ----------------------------------------------------------------------------- broken files, parsed


@pytest.mark.parametrize(("name", "expected"), BROKEN_FILES)
def test_broken_file_is_refused_whole_with_every_problem_in_french_and_its_place(name, expected):
    """ImportRefused lists each problem once, with its line (and column) where there is one."""
    assert_problems_are(refusal(name), expected)


# ------------------------------------------------------------------------------------ the command


@pytest.mark.parametrize("name", VALID_FILES)
def test_cli_imports_each_format_and_says_what_it_imported(runner, referentiels, name):
    """Exit 0, a one-line summary, and the grid in the database in the file's order."""
    result = cli_import(runner, DATA / name, *SPREADSHEET_OPTIONS)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Importé : grille-e2c v1, 5 critères en 3 sections.\n"
    framework = latest_framework(db.session, "grille-e2c")
    assert grid_layout(framework) == [(code, title, GRID_CODES[code])
                                      for code, title in GRID_SECTIONS]
    assert [c.position for c in framework.criteria] == [0, 1, 2, 3, 4]
    assert {c.code for c in framework.criteria if c.indispensable} == GRID_INDISPENSABLE
    assert framework.provisional is False


def test_cli_provisional_option_marks_a_spreadsheet_import_provisional(runner, app):
    """``--provisional`` sets the flag the UI shows on every page of the framework."""
    result = cli_import(runner, DATA / "grille.xlsx", *SPREADSHEET_OPTIONS, "--provisional")
    assert result.exit_code == 0, result.output
    assert latest_framework(db.session, "grille-e2c").provisional is True


@pytest.mark.parametrize(("name", "expected"), BROKEN_FILES)
def test_cli_refuses_a_broken_file_prints_every_problem_and_saves_nothing(
        runner, referentiels, name, expected):
    """Exit 1, each problem on stderr, and exactly the frameworks held before."""
    before = row_counts()
    result = cli_import(runner, DATA / name, *SPREADSHEET_OPTIONS)
    assert result.exit_code == 1
    assert result.stdout == ""
    problems = refusal(name)
    assert result.stderr.splitlines() == [
        f"Fichier refusé, rien n’a été importé ({len(expected)} problème(s)) :",
        *(f"  - {p}" for p in problems),
    ]
    assert row_counts() == before


def test_cli_import_of_a_spreadsheet_without_its_identity_is_refused(runner, app):
    """Without --code/--version/--name a CSV is refused and nothing is saved."""
    result = cli_import(runner, DATA / "grille-utf8-bom.csv")
    assert result.exit_code == 1
    assert "indiquez aussi : code, version, name" in result.stderr
    assert row_counts()["Framework"] == 0


def test_cli_list_shows_both_shipped_frameworks(runner, referentiels):
    """One line each; only the E2C one says it is provisional."""
    result = runner.invoke(args=["referentiel", "list"])
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(lines) == {"e2c-label", "qualiopi-v9"}
    assert "v9" in lines["qualiopi-v9"] and "32 critères" in lines["qualiopi-v9"]
    assert "(provisoire)" not in lines["qualiopi-v9"]
    assert "v2026-provisoire" in lines["e2c-label"] and "(provisoire)" in lines["e2c-label"]


# ------------------------------------------------------------------------------------- versions


def test_reimporting_the_same_code_and_version_is_refused_in_french(runner, referentiels):
    """The second import of grille-e2c v1 changes nothing and says to choose another version."""
    assert cli_import(runner, DATA / "grille.yaml").exit_code == 0
    before = row_counts()
    result = cli_import(runner, DATA / "grille-utf8-bom.csv", *SPREADSHEET_OPTIONS)
    assert result.exit_code == 1
    assert ("la version « 1 » du référentiel « grille-e2c » existe déjà ; donnez un autre numéro "
            "de version pour l’importer à côté") in result.stderr
    assert row_counts() == before


def test_save_framework_refuses_an_existing_code_and_version(referentiels):
    """save_framework itself refuses a shipped (code, version) rather than altering it."""
    spec = parse_file("qualiopi-v9.yaml", (DATA_DIR / "qualiopi-v9.yaml").read_bytes())
    before = row_counts()
    with pytest.raises(ImportRefused) as refused:
        save_framework(db.session, spec)
    db.session.rollback()
    assert_problems_are(refused.value.problems,
                        [("", "la version « 9 » du référentiel « qualiopi-v9 » existe déjà")])
    assert row_counts() == before


def test_new_version_is_imported_beside_the_old_one_which_keeps_its_criteria_and_links(
        runner, referentiels):
    """v2 of grille-e2c leaves v1, its criterion ids and its mapping rows; latest is v2."""
    assert cli_import(runner, DATA / "grille.yaml").exit_code == 0
    v1 = latest_framework(db.session, "grille-e2c")
    qualiopi = latest_framework(db.session, "qualiopi-v9")
    db.session.add(CriterionMapping(from_criterion=criterion(v1, "A1"),
                                    to_criterion=criterion(qualiopi, "17"), note="Moyens dédiés"))
    db.session.commit()
    v1_id, v1_criteria = v1.id, {c.code: c.id for c in v1.criteria}
    mappings = db.session.execute(select(CriterionMapping.from_criterion_id,
                                         CriterionMapping.to_criterion_id,
                                         CriterionMapping.note)).all()

    options = ["--code", "grille-e2c", "--version", "2", "--name", "Grille E2C de test"]
    result = cli_import(runner, DATA / "grille-utf8-bom.csv", *options)
    assert result.exit_code == 0, result.output
    db.session.expire_all()

    old = db.session.get(Framework, v1_id)
    assert old.version == "1"
    assert {c.code: c.id for c in old.criteria} == v1_criteria
    assert db.session.execute(select(CriterionMapping.from_criterion_id,
                                     CriterionMapping.to_criterion_id,
                                     CriterionMapping.note)).all() == mappings
    assert [(c.code, note) for c, note in related_criteria(db.session, criterion(old, "A1"))] == [
        ("17", "Moyens dédiés")]
    latest = latest_framework(db.session, "grille-e2c")
    assert latest.version == "2" and latest.id != v1_id
    assert not {c.id for c in latest.criteria} & set(v1_criteria.values())
    assert related_criteria(db.session, criterion(latest, "A1")) == []


def test_official_e2c_grid_arrives_as_a_spreadsheet_beside_the_provisional_structure(
        runner, referentiels):
    """The XLSX becomes the latest e2c-label; the provisional version keeps its criteria, links."""
    provisional = latest_framework(db.session, "e2c-label")
    kept = {c.code: c.id for c in provisional.criteria}
    links_before = db.session.scalar(select(func.count(CriterionMapping.id)))
    result = cli_import(runner, DATA / "grille.xlsx", "--code", "e2c-label", "--version", "2026",
                        "--name", "Label E2C France")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    latest = latest_framework(db.session, "e2c-label")
    assert (latest.version, latest.provisional) == ("2026", False)
    assert [t.code for t in latest.finding_types] == [s["code"] for s in default_scale()]
    old = db.session.get(Framework, provisional.id)
    assert {c.code: c.id for c in old.criteria} == kept
    assert sum(c.indispensable for c in old.criteria) == 4
    assert db.session.scalar(select(func.count(CriterionMapping.id))) == links_before
    assert related_criteria(db.session, criterion(old, "C1"))


# ------------------------------------------------------------------------------- the admin page


@pytest.mark.parametrize(("name", "fields", "provisional"), [
    pytest.param("grille-utf8-bom.csv", {**META, "provisional": "y"}, True, id="csv-provisional"),
    pytest.param("grille-cp1252.csv", META, False, id="csv-cp1252"),
    pytest.param("grille.xlsx", META, False, id="xlsx"),
    pytest.param("grille.yaml", {}, False, id="yaml"),
])
def test_admin_imports_a_file_from_the_page_and_lands_on_the_framework(
        client, auth, make_user, referentiels, name, fields, provisional):
    """POST /referentiels/import redirects to the new framework, saved with its 5 criteria."""
    auth.login(make_user(Role.ADMIN))
    response = upload(client, name, **fields)
    assert response.status_code == 302
    framework = latest_framework(db.session, "grille-e2c")
    assert response.location.endswith(f"/referentiels/{framework.id}")
    assert grid_layout(framework) == [(code, title, GRID_CODES[code])
                                      for code, title in GRID_SECTIONS]
    assert framework.provisional is provisional
    page = client.get(response.location).get_data(as_text=True)
    assert f"Référentiel importé : {framework.label}, 5 critères." in html.unescape(page)


@pytest.mark.parametrize(("name", "expected"), BROKEN_UPLOADS)
def test_admin_upload_of_a_broken_file_lists_every_problem_and_saves_nothing(
        client, auth, make_user, referentiels, name, expected):
    """200, the page lists each problem with its place, the database is as before."""
    auth.login(make_user(Role.ADMIN))
    before = row_counts()
    response = upload(client, name, **META)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    listed = problems_on_page(page)
    problems = refusal(name)
    assert listed.count("<li>") == len(problems) == len(expected)
    for problem in problems:
        assert f"<li>{problem}</li>" in listed
    assert f"Corrigez les {len(expected)} problème(s)" in html.unescape(page)
    assert row_counts() == before


def test_admin_upload_of_an_already_imported_version_is_refused_on_the_page(
        client, auth, make_user, referentiels):
    """The shipped Qualiopi file uploaded again: one problem listed, nothing changed."""
    auth.login(make_user(Role.ADMIN))
    before = row_counts()
    response = upload(client, "qualiopi-v9.yaml", raw=(DATA_DIR / "qualiopi-v9.yaml").read_bytes())
    assert response.status_code == 200
    assert "la version « 9 » du référentiel « qualiopi-v9 » existe déjà" in problems_on_page(
        response.get_data(as_text=True))
    assert row_counts() == before


def test_admin_upload_of_an_unsupported_format_is_turned_away_by_the_form(
        client, auth, make_user, referentiels):
    """An .ods file never reaches the importer: the form names the accepted formats."""
    auth.login(make_user(Role.ADMIN))
    before = row_counts()
    response = upload(client, "format-inconnu.ods", **META)
    assert response.status_code == 200
    assert "Formats acceptés : YAML, CSV, XLSX." in html.unescape(response.get_data(as_text=True))
    assert row_counts() == before


def test_quality_lead_may_not_import_a_referentiel(client, auth, make_user, referentiels):
    """Role.QUALITY_LEAD gets 403 on the page and on the upload, and nothing is saved."""
    auth.login(make_user(Role.QUALITY_LEAD))
    before = row_counts()
    assert client.get("/referentiels/import").status_code == 403
    assert upload(client, "grille-utf8-bom.csv", **META).status_code == 403
    assert row_counts() == before
