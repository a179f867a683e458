"""Key indicators: weighted totals, the seed's figures from the demo, entry rules and conflicts,
all-or-nothing import, targets and their gaps, constant SQL, the chart."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from audit_tracker.charts import to_svg
from audit_tracker.clock import set_today
from audit_tracker.extensions import db
from audit_tracker.indicators import importer, service
from audit_tracker.indicators.charts import indicator_chart
from audit_tracker.indicators.display import format_gap, format_value
from audit_tracker.indicators.service import (
    Counts,
    IndicatorError,
    indicator_table,
)
from audit_tracker.models import (
    Campaign,
    Comparison,
    IndicatorEntry,
    IndicatorTarget,
    Role,
    School,
    Site,
    User,
)
from audit_tracker.templating import percent

from . import factories


@pytest.fixture
def march_2018_over(app):
    """Tests that enter March 2018's figures need that month over, whatever day the suite runs
    on (a month to come is refused): put the clock on the first Monday of April 2018."""
    set_today(app, date(2018, 4, 2))

NARROW_NBSP = "\u202f"


def pct(text: str) -> str:
    """« 16 % » as the product writes it (narrow no-break space)."""
    return text.replace(" %", f"{NARROW_NBSP}%")


def entry(school, site, period, **counts) -> IndicatorEntry:
    row = IndicatorEntry(school_id=school.id, site_id=site.id, period=period, **counts)
    db.session.add(row)
    return row


def demo_school() -> School:
    return db.session.scalar(select(School).where(School.short_name == "E2C Var"))


def demo_site(code: str) -> Site:
    return db.session.scalar(select(Site).where(Site.code == code))


def demo_user(local_part: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{local_part}@e2c-var.example"))


def campaign_url(path: str = "") -> str:
    campaign_id = db.session.scalar(select(Campaign.id).limit(1))
    return f"/campagnes/{campaign_id}/indicateurs/{path}"


# ----------------------------------------------------------------------------- weighted totals


def test_total_rate_is_weighted_by_the_counts_not_a_mean_of_percentages(app, school):
    small = factories.SiteFactory(school=school)
    large = factories.SiteFactory(school=school)
    entry(school, small, date(2018, 1, 1), entries=10, from_qpv=5)  # 50 %
    entry(school, large, date(2018, 1, 1), entries=90, from_qpv=9)  # 10 %
    db.session.commit()

    table = indicator_table(school)

    rates = [row["qpv_rate"].value for row in table.rows]
    assert rates == [0.5, 0.1]
    assert table.total["qpv_rate"].value == pytest.approx(14 / 100)
    assert table.total["qpv_rate"].value != pytest.approx(sum(rates) / len(rates))  # 30 %


def test_a_rate_without_denominator_is_none_and_shows_a_dash(app, school):
    site = factories.SiteFactory(school=school)
    entry(school, site, date(2018, 1, 1), entries=4, from_qpv=1)  # no exit at all
    db.session.commit()

    row = indicator_table(school).rows[0]

    assert row["positive_exit_rate"].value is None
    assert row["positive_exit_rate"].met is None
    assert format_value(row["positive_exit_rate"].indicator, None) == "—"
    assert percent(None) == "—"


def test_the_period_limits_the_months_summed(app, school):
    site = factories.SiteFactory(school=school)
    for month, entries in ((1, 3), (2, 5), (3, 7)):
        entry(school, site, date(2018, month, 1), entries=entries)
    db.session.commit()

    table = indicator_table(school, start=date(2018, 2, 14), end=date(2018, 3, 1))

    assert table.total.counts.entries == 12
    assert table.periods == [date(2018, 2, 1), date(2018, 3, 1)]
    assert table.total["monthly_entries"].value == 6


# ---------------------------------------------------------------------------------- the demo


def test_the_demo_gives_the_source_documents_totals(app, demo):
    table = indicator_table(demo_school())
    total = table.total

    assert total.counts.entries == 252
    assert percent(total["qpv_rate"].value) == pct("16 %")
    assert total.counts.host_companies == 236
    assert percent(total["positive_exit_rate"].value) == pct("46 %")
    assert (total.counts.positive_exits, total.counts.exits_training,
            total.counts.exits_employment, total.counts.exits_work_study) == (30, 15, 10, 5)
    assert percent(total["without_diploma_rate"].value) == pct("68 %")


@pytest.mark.parametrize(("code", "entries", "qpv", "companies", "positive"), [
    ("tpm", 134, "22 %", 143, "38 %"),
    ("cavem", 48, "6 %", 39, "75 %"),
    ("provence-verte", 29, "14 %", 33, "50 %"),
    ("dracenie", 41, "10 %", 21, "50 %"),
])
def test_the_demo_reproduces_each_sites_line_of_the_seed(app, demo, code, entries, qpv,
                                                          companies, positive):
    row = next(r for r in indicator_table(demo_school()).rows if r.site.code == code)

    assert row.counts.entries == entries
    assert percent(row["qpv_rate"].value) == pct(qpv)
    assert row.counts.host_companies == companies
    assert percent(row["positive_exit_rate"].value) == pct(positive)
    # From the site's opening month to February 2018, every month a first day.
    months = [m.period for m in indicator_table(demo_school()).months if m.site.code == code]
    assert months[0] == row.site.opened_on.replace(day=1)
    assert months[-1] == date(2018, 2, 1)


def test_the_shifted_demo_keeps_first_of_month_periods_and_the_totals(app, demo_today):
    periods = db.session.scalars(select(IndicatorEntry.period)).all()
    assert periods and all(p.day == 1 for p in periods)
    table = indicator_table(demo_school())
    assert table.total.counts.entries == 252
    assert table.total.counts.positive_exits == 30
    assert len(table.periods) == 12  # March 2017 … February 2018, moved by whole months


# ------------------------------------------------------------------------------------ targets


def test_gaps_to_target_in_points_and_per_month(app, demo):
    table = indicator_table(demo_school())
    qpv = table.total["qpv_rate"]
    assert qpv.target.value == 0.40 and qpv.target.comparison is Comparison.MIN
    assert qpv.gap_points == pytest.approx(40 / 252 * 100 - 40)
    assert qpv.met is False
    assert format_gap(qpv) == "−24 pts"
    assert format_gap(table.total["without_diploma_rate"]) == "−17 pts"

    cavem = next(r for r in table.rows if r.site.code == "cavem")
    monthly = cavem["monthly_entries"]
    assert monthly.value == pytest.approx(48 / 9)
    assert monthly.gap == pytest.approx(48 / 9 - 10)
    assert format_gap(monthly) == "−4,7"
    # The CAVEM target is the site's own: neither the school total nor TPM has one.
    assert table.total["monthly_entries"].target is None
    assert next(r for r in table.rows if r.site.code == "tpm")["monthly_entries"].target is None


def test_a_site_target_replaces_the_schools_and_max_means_at_most(app, school):
    site, other = factories.SiteFactory(school=school), factories.SiteFactory(school=school)
    entry(school, site, date(2018, 1, 1), entries=10, from_qpv=3)
    entry(school, other, date(2018, 1, 1), entries=10, from_qpv=3)
    db.session.add_all([
        IndicatorTarget(school_id=school.id, indicator="qpv_rate", value=0.4),
        IndicatorTarget(school_id=school.id, site_id=site.id, indicator="qpv_rate",
                        comparison=Comparison.MAX, value=0.35),
    ])
    db.session.commit()

    rows = {r.site.id: r for r in indicator_table(school).rows}

    assert rows[site.id]["qpv_rate"].met is True  # 30 % ≤ 35 %
    assert rows[site.id]["qpv_rate"].gap_points == pytest.approx(-5)
    assert rows[other.id]["qpv_rate"].met is False  # 30 % < 40 %
    assert rows[other.id]["qpv_rate"].gap_points == pytest.approx(-10)


def test_targets_page_stores_a_typed_percentage_as_a_fraction(client, auth, demo):
    auth.login_demo(demo, "qualite")
    response = client.post(campaign_url("objectifs"), data={
        "lines-0-indicator": "positive_exit_rate",
        "lines-0-site_id": "0",
        "lines-0-comparison": "min",
        "lines-0-value": "62,5 %",
        "lines-0-source": "Réseau E2C France, résultats 2023",
    })
    assert response.status_code == 302
    target = db.session.scalar(
        select(IndicatorTarget).where(IndicatorTarget.indicator == "positive_exit_rate"))
    assert target.value == pytest.approx(0.625)
    assert target.source == "Réseau E2C France, résultats 2023"
    page = client.get(campaign_url()).get_data(as_text=True)
    assert "obj. ≥\u00a062" in page


def test_targets_page_refuses_a_duplicate_and_saves_nothing(client, auth, demo):
    auth.login_demo(demo, "direction")
    before = db.session.scalar(select(func.count(IndicatorTarget.id)))
    line = {"indicator": "qpv_rate", "site_id": "0", "comparison": "min", "value": "30"}
    data = {f"lines-{i}-{k}": v for i in (0, 1) for k, v in line.items()}
    response = client.post(campaign_url("objectifs"), data=data)
    assert response.status_code == 400
    assert "a déjà un objectif" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(IndicatorTarget.id))) == before


# ------------------------------------------------------------------------------ entering counts


def entry_form(site: Site, month: str = "2018-03", **counts) -> dict:
    data = {name: 0 for name in service.COUNT_LABELS}
    data.update(counts)
    return {"site_id": site.id, "period": month, **data}


@pytest.mark.usefixtures("march_2018_over")
def test_a_site_manager_enters_their_own_sites_month(client, auth, demo):
    auth.login_demo(demo, "tpm")
    tpm = demo_site("tpm")
    response = client.post(campaign_url("saisie"),
                           data=entry_form(tpm, entries=12, from_qpv=4, without_diploma=10))
    assert response.status_code == 302
    saved = db.session.scalar(select(IndicatorEntry).where(
        IndicatorEntry.site_id == tpm.id, IndicatorEntry.period == date(2018, 3, 1)))
    assert (saved.entries, saved.from_qpv, saved.without_diploma) == (12, 4, 10)
    assert saved.updated_by_id == demo_user("tpm").id


def test_a_site_manager_is_refused_another_sites_entry(client, auth, demo):
    auth.login_demo(demo, "tpm")
    cavem = demo_site("cavem")
    count = db.session.scalar(select(func.count(IndicatorEntry.id)))

    response = client.post(campaign_url("saisie"), data=entry_form(cavem, entries=3))

    assert response.status_code == 403
    assert "que de votre site" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(IndicatorEntry.id))) == count
    assert client.get(campaign_url(f"saisie?site={cavem.id}&mois=2018-02")).status_code == 403
    # The form offers their own site only.
    page = client.get(campaign_url("saisie")).get_data(as_text=True)
    assert "Site TPM" in page and "Site CAVEM" not in page


def test_service_refuses_another_site_for_a_site_manager(app, demo):
    with pytest.raises(IndicatorError, match="que de votre site"):
        service.save_entry(db.session, demo_school(), demo_site("cavem"), date(2018, 3, 1),
                           Counts(entries=1), demo_user("tpm"))


@pytest.mark.parametrize(("counts", "message"), [
    ({"entries": 3, "from_qpv": 4}, "issus des QPV (4) ne peuvent pas dépasser"),
    ({"entries": 3, "without_diploma": 5}, "non-diplômés (5) ne peuvent pas dépasser"),
    ({"exits": 2, "exits_training": 1, "exits_employment": 1, "exits_work_study": 1},
     "sorties positives (formation + emploi + alternance = 3)"),
])
@pytest.mark.usefixtures("march_2018_over")
def test_impossible_counts_are_refused_in_french(client, auth, demo, counts, message):
    auth.login_demo(demo, "qualite")
    count = db.session.scalar(select(func.count(IndicatorEntry.id)))
    response = client.post(campaign_url("saisie"), data=entry_form(demo_site("tpm"), **counts))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(IndicatorEntry.id))) == count


def test_a_negative_count_or_a_future_month_is_refused(client, auth, demo):
    auth.login_demo(demo, "qualite")
    response = client.post(campaign_url("saisie"), data=entry_form(demo_site("tpm"),
                                                                   entries=-1))
    assert response.status_code == 400
    assert "Un nombre entier entre 0 et" in response.get_data(as_text=True)
    response = client.post(campaign_url("saisie"), data=entry_form(demo_site("tpm"), "2999-01"))
    assert response.status_code == 400
    assert "pas encore commencé" in response.get_data(as_text=True)


def test_a_stale_edit_gets_a_conflict_and_changes_nothing(client, auth, demo):
    auth.login_demo(demo, "qualite")
    tpm = demo_site("tpm")
    stored = db.session.scalar(select(IndicatorEntry).where(
        IndicatorEntry.site_id == tpm.id, IndicatorEntry.period == date(2018, 2, 1)))
    seen = stored.lock_version
    form = client.get(campaign_url(f"saisie?site={tpm.id}&mois=2018-02")).get_data(as_text=True)
    assert f'name="lock_version" type="hidden" value="{seen}"' in form

    first = entry_form(tpm, "2018-02", entries=20, lock_version=seen)
    assert client.post(campaign_url("saisie"), data=first).status_code == 302
    second = entry_form(tpm, "2018-02", entries=99, lock_version=seen)  # the stale form
    response = client.post(campaign_url("saisie"), data=second)

    assert response.status_code == 409
    assert "modifiés par quelqu’un d’autre" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(IndicatorEntry, stored.id).entries == 20


def test_a_blank_form_does_not_overwrite_a_month_already_entered(app, demo):
    tpm = demo_site("tpm")
    with pytest.raises(service.Conflict, match="déjà saisis"):
        service.save_entry(db.session, demo_school(), tpm, date(2018, 2, 1),
                           Counts(entries=1), demo_user("qualite"))


# ------------------------------------------------------------------------------------- import


def csv_bytes(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    return out.getvalue().encode("utf-8")


def test_an_import_with_one_bad_row_is_refused_whole(client, auth, demo):
    auth.login_demo(demo, "qualite")
    tpm = demo_site("tpm")
    february = db.session.scalar(select(IndicatorEntry).where(
        IndicatorEntry.site_id == tpm.id, IndicatorEntry.period == date(2018, 2, 1)))
    before = (db.session.scalar(select(func.count(IndicatorEntry.id))), february.entries)
    rows = [list(importer.HEADER),
            ["tpm", "2018-03", 10, 2, 8, 5, 3, 1, 1, 0],
            ["tpm", "2018-02", 50, 2, 8, 5, 3, 1, 1, 0],  # would replace February
            ["cavem", "2018-03", 4, 9, 1, 0, 0, 0, 0, 0],  # line 4: more QPV than entries
            ["nulle-part", "mars", 1, 0, 0, 0, 0, 0, 0, 0]]  # line 5: unknown site, bad month

    response = client.post(campaign_url("import"), data={
        "file": (io.BytesIO(csv_bytes(rows)), "indicateurs.csv")})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "ligne 4 : Les stagiaires issus des QPV (9) ne peuvent pas dépasser" in page
    assert "ligne 5 : site inconnu « nulle-part »" in page
    assert "ligne 5 : mois illisible « mars »" in page
    assert "rien n’a été importé" in page
    db.session.expire_all()
    assert (db.session.scalar(select(func.count(IndicatorEntry.id))),
            db.session.get(IndicatorEntry, february.id).entries) == before


@pytest.mark.usefixtures("march_2018_over")
def test_a_valid_xlsx_import_creates_and_updates_months(client, auth, demo):
    auth.login_demo(demo, "qualite")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Site", "Mois", "Entrées", "QPV", "Non diplômés", "Entreprises", "Sorties",
                  "Sorties formation", "Sorties emploi", "Sorties alternance"])
    sheet.append(["cavem", date(2018, 3, 15), 10, 4, 9, 3, 2, 1, 1, None])  # a date: its month
    sheet.append(["Site Dracénie", "2018-02", 9.0, 1, 7, 2, 4, 2, 1, 0])  # by name; replaces
    out = io.BytesIO()
    workbook.save(out)

    response = client.post(campaign_url("import"), data={
        "file": (io.BytesIO(out.getvalue()), "indicateurs.xlsx")})

    assert response.status_code == 302
    cavem = db.session.scalar(select(IndicatorEntry).where(
        IndicatorEntry.site_id == demo_site("cavem").id,
        IndicatorEntry.period == date(2018, 3, 1)))
    assert (cavem.entries, cavem.from_qpv, cavem.exits_work_study) == (10, 4, 0)
    dracenie = db.session.scalar(select(IndicatorEntry).where(
        IndicatorEntry.site_id == demo_site("dracenie").id,
        IndicatorEntry.period == date(2018, 2, 1)))
    assert (dracenie.entries, dracenie.exits) == (9, 4)


def test_a_site_manager_imports_only_their_own_site(app, demo):
    raw = csv_bytes([list(importer.HEADER), ["tpm", "2018-03", 1, 0, 0, 0, 0, 0, 0, 0],
                     ["cavem", "2018-03", 1, 0, 0, 0, 0, 0, 0, 0]])
    with pytest.raises(importer.ImportRefused) as refused:
        importer.import_entries(db.session, demo_school(), "f.csv", raw, demo_user("tpm"))
    assert refused.value.problems == [
        "ligne 3 : vous ne pouvez importer que les indicateurs de votre site "
        "(« cavem » refusé)."]


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("f.csv", b"", "Le fichier est vide."),
    ("f.csv", b"site;entrees\ntpm;3\n", "colonne(s) obligatoire(s) absente(s) : mois"),
    ("f.ods", b"x", "Format non pris en charge : .ods"),
    ("f.xlsx", b"not a workbook", "Classeur XLSX illisible"),
    ("f.csv", b"site;mois;entrees\ntpm;2018-03;3\ntpm;03/2018;4\n",
     "ligne 3 : tpm, 03/2018 figure déjà ligne 2."),
    ("f.csv", b"site;mois;entrees\ntpm;2018-03;2,5\n", "doit être un nombre entier"),
])
def test_unreadable_files_are_refused_in_french(app, demo, name, raw, message):
    with pytest.raises(importer.ImportRefused) as refused:
        importer.import_entries(db.session, demo_school(), name, raw, demo_user("qualite"))
    assert any(message in problem for problem in refused.value.problems)


def test_the_templates_download_and_import_back(client, auth, demo):
    auth.login_demo(demo, "qualite")
    xlsx = client.get(campaign_url("modele"))
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    assert [c.value for c in sheet[1]] == list(importer.HEADER)
    as_csv = client.get(campaign_url("modele?format=csv"))
    assert as_csv.data.decode("utf-8-sig").splitlines()[0] == ";".join(importer.HEADER)
    # The template's example row is a valid import (TPM, February 2018 replaced).
    report = importer.import_entries(db.session, demo_school(), "modele.csv", as_csv.data,
                                     demo_user("qualite"))
    assert (report.created, report.updated) == (0, 1)


# ------------------------------------------------------------------------------ SQL and chart


def count_statements(run) -> int:
    statements = []

    def record(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def school_with(sites: int, months: int) -> School:
    school = factories.SchoolFactory()
    for _ in range(sites):
        site = factories.SiteFactory(school=school)
        for m in range(months):
            entry(school, site, date(2010 + m // 12, m % 12 + 1, 1), entries=5, from_qpv=1)
    db.session.add(IndicatorTarget(school_id=school.id, indicator="qpv_rate", value=0.4))
    db.session.commit()
    return school


def test_the_number_of_sql_statements_does_not_grow_with_sites_or_months(app):
    small, large = school_with(1, 1), school_with(10, 10)
    db.session.expire_all()
    small = db.session.get(School, small.id)
    large = db.session.get(School, large.id)

    def build(school):
        def run():
            table = indicator_table(school)
            to_svg(indicator_chart(table, "qpv_rate"), "QPV")
            [(r.label, r.counts.entries, r["qpv_rate"].target) for r in table.months]
        return run

    few, many = count_statements(build(small)), count_statements(build(large))
    assert few == many
    assert 1 <= many <= 3
    assert indicator_table(large).total.counts.entries == 10 * 10 * 5


def test_the_chart_renders_to_svg_with_the_site_names_and_the_target(app, demo):
    table = indicator_table(demo_school())
    svg = str(to_svg(indicator_chart(table, "qpv_rate"), "QPV"))
    assert svg.startswith("<svg")
    for name in ("TPM", "CAVEM", "Provence Verte", "Dracénie", "Total"):
        assert name in svg
    assert "au moins 40" in svg  # the target, in the legend
    monthly = str(to_svg(indicator_chart(table, "monthly_entries"), "Entrées"))
    assert "5,3" in monthly


def test_the_pages_show_the_table_and_link_from_the_campaign(client, auth, demo):
    auth.login_demo(demo, "auditeur")
    campaign_page = client.get(campaign_url().removesuffix("/indicateurs/")).get_data(
        as_text=True)
    assert campaign_url() in campaign_page
    page = client.get(campaign_url())
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="row-total"' in text and ">252<" in text
    assert pct("16 %") in text and "−24 pts" in text
    assert "15 en formation, 10 en emploi, 5 en alternance" in text
    assert "<svg" in text
    assert "Saisir un mois" not in text  # the auditor reads only
    months = client.get(campaign_url("mois?site=cavem")).get_data(as_text=True)
    assert "Site CAVEM" in months and "février 2018" in months


def test_a_bad_month_filter_is_ignored_with_a_warning(client, auth, demo):
    auth.login_demo(demo, "qualite")
    response = client.get(campaign_url("?debut=demain"))
    assert response.status_code == 200
    assert "Mois illisible « demain »" in response.get_data(as_text=True)


def test_the_database_refuses_impossible_counts_too(app, school):
    site = factories.SiteFactory(school=school)
    entry(school, site, date(2018, 1, 1), entries=1, from_qpv=2)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_site_user_fixture_reads_every_site(client, make_user, school):
    user = make_user(Role.SITE_MANAGER)
    other = factories.SiteFactory(school=school)
    entry(school, other, date(2018, 1, 1), entries=2)
    campaign = factories.CampaignFactory(school=school)
    db.session.commit()
    client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})
    page = client.get(f"/campagnes/{campaign.id}/indicateurs/mois").get_data(as_text=True)
    assert other.name in page
    assert f"saisie?site={other.id}" not in page  # no edit link on another site's month


def test_the_table_is_filed_as_a_proof_of_the_result_criteria(client, auth, demo, storage):
    from pypdf import PdfReader

    from audit_tracker.models import Evidence, ReviewStatus

    auth.login_demo(demo, "qualite")
    response = client.post(campaign_url("preuve"))
    assert response.status_code == 302, response.get_data(as_text=True)[-500:]
    proof = db.session.scalar(select(Evidence).where(Evidence.title.like("Indicateurs clés%")))
    assert proof.status is ReviewStatus.TO_REVIEW
    codes = sorted((link.criterion.framework.code, link.criterion.code) for link in proof.links)
    assert codes == [("e2c-label", c) for c in ("B1", "B2", "B5", "D5", "G2", "G3", "H3")] + [
        ("qualiopi-v9", "2")]
    # The stored file is the table, readable: the weighted totals of the source document.
    version = proof.current_version
    data = b"".join(storage.open_chunks(version.storage_key))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    text = text.replace(NARROW_NBSP, " ").replace("\u00a0", " ")
    assert "École de la 2e Chance du Var" in text and "252" in text and "236" in text
    assert "16 % (cible ≥ 40 %, écart\n−24 pts)" in text  # the weighted QPV share, its gap
    assert version.media_type == "application/pdf"


def test_only_the_quality_lead_or_director_files_the_table(client, auth, demo):
    from audit_tracker.models import Evidence

    auth.login_demo(demo, "tpm")
    assert client.post(campaign_url("preuve")).status_code == 403
    assert db.session.scalar(select(Evidence)) is None
