"""``flask`` commands: setup, référentiel import, users and tokens, demo data."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from . import config
from .clock import local_today
from .demo import load_demo, seed_day
from .extensions import db
from .models import ApiToken, Role, School, Site, User
from .referentiel.importer import ImportRefused, parse_file, save_framework
from .referentiel.service import list_frameworks, load_shipped_referentiels

DEMO_ACCOUNTS_FILE = "demo-accounts.txt"

referentiel_cli = AppGroup("referentiel", help="Référentiels : import et liste.")
users_cli = AppGroup("users", help="Comptes et jetons d’API.")
demo_cli = AppGroup("demo", help="Données de démonstration (E2C Var, février 2018).")
evidence_cli = AppGroup("evidence", help="Bibliothèque de preuves.")
reminders_cli = AppGroup("reminders", help="Rappels par e-mail des échéances d’actions.")
dossier_cli = AppGroup("dossier", help="Dossier de preuves (PDF et archive ZIP).")
readiness_cli = AppGroup("readiness", help="État de préparation : instantanés quotidiens.")
schools_cli = AppGroup("schools", help="Écoles du réseau sur cette instance.")
jobs_cli = AppGroup("jobs", help="Travaux en arrière-plan (file RQ).")
journal_cli = AppGroup("journal", help="Journal chaîné : vérification et tête de chaîne.")
retention_cli = AppGroup("retention", help="Données personnelles : effacement à échéance.")
backup_cli = AppGroup("backup", help="Sauvegardes : créer, vérifier, restaurer une archive.")


def init_commands(app: Flask) -> None:
    app.cli.add_command(setup)
    app.cli.add_command(referentiel_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(evidence_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(dossier_cli)
    app.cli.add_command(readiness_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(schools_cli)
    app.cli.add_command(check)
    app.cli.add_command(journal_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(retention_cli)


def _private_write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


@click.command()
@click.option(
    "--demo/--no-demo",
    default=False,
    help="Charger les données de démonstration si la base n’a encore aucune école.",
)
@click.option(
    "--address",
    default=None,
    help="L’adresse où l’application sera servie, affichée à la fin (par défaut BASE_URL).",
)
def setup(demo: bool, address: str | None) -> None:
    """Prépare l’instance : clé secrète, migrations, référentiels, démo au premier lancement."""
    from flask_migrate import upgrade

    if not current_app.config.get("SECRET_KEY"):
        current_app.config["SECRET_KEY"] = config.instance_secret_key(
            current_app.instance_path, create=True
        )
        click.echo("Clé secrète créée dans instance/secret_key.")
    upgrade()
    from .jobs import recover_lost

    lost = recover_lost(db.session, current_app)
    if lost:
        click.echo(f"{lost} construction(s) de dossier interrompue(s) marquée(s) en échec.")
    report = load_shipped_referentiels(db.session)
    db.session.commit()
    for label in report.added:
        click.echo(f"Référentiel chargé : {label}")
    accounts_file = Path(current_app.instance_path) / DEMO_ACCOUNTS_FILE
    if demo and not db.session.scalar(select(func.count(School.id))):
        _load_demo_and_save_accounts(accounts_file, shifted=True)
    _take_todays_snapshots()
    if accounts_file.exists():
        click.echo("\nComptes de démonstration (mots de passe dans instance/demo-accounts.txt) :")
        click.echo(accounts_file.read_text(encoding="utf-8"))
    click.echo(f"Application : {address or current_app.config['BASE_URL']}")


def _take_todays_snapshots() -> None:
    """The day's first readiness snapshot of each campaign that has none yet: the dashboard's
    trend reads them, and no page writes them."""
    from .models import Campaign
    from .readiness.snapshots import record_daily

    today = local_today()
    for campaign in db.session.scalars(select(Campaign).order_by(Campaign.id)).all():
        record_daily(db.session, campaign, today)
    db.session.commit()


def _load_demo_and_save_accounts(accounts_file: Path, shifted: bool) -> None:
    from .demo_story import load_demo_story
    from .storage import EVIDENCE, storage_for, upload_tmp_dir

    today = local_today() if shifted else None
    accounts = load_demo(db.session, today=today)
    db.session.commit()
    story = load_demo_story(db.session, storage_for(current_app, EVIDENCE),
                            upload_tmp_dir(current_app), today=today)
    # The second factor's key beside the password: add it to an authenticator app (manual
    # entry) to log in as the direction or the admin of the demo, which requires TOTP.
    lines = [f"{a.email:<36} {a.role.label:<28} {a.password}"
             + (f"  TOTP : {a.totp_secret}" if a.totp_secret else "") for a in accounts]
    _private_write(accounts_file, "\n".join(lines) + "\n")
    when = (f"décalées de semaines entières : le 28/02/2018 de la note tombe le "
            f"{seed_day(today):%d/%m/%Y}") if shifted else "réelles (2017-2018)"
    click.echo(f"Données de démonstration chargées, dates {when} : {story['proofs']} preuves, "
               f"{story['findings']} constats, {story['actions']} actions.")


@demo_cli.command("load")
@click.option(
    "--real-dates",
    is_flag=True,
    help="Garder les dates réelles de 2018 au lieu de les décaler à aujourd’hui.",
)
def demo_load(real_dates: bool) -> None:
    """Charge l’E2C Var (4 sites, campagne 2018, comptes) dans une base sans école."""
    if db.session.scalar(select(func.count(School.id))):
        raise click.ClickException("La base contient déjà une école : démo non chargée.")
    load_shipped_referentiels(db.session)
    _load_demo_and_save_accounts(
        Path(current_app.instance_path) / DEMO_ACCOUNTS_FILE, shifted=not real_dates
    )


@referentiel_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--code", help="Code du référentiel (tableurs CSV/XLSX).")
@click.option("--version", "version_", help="Version (tableurs CSV/XLSX).")
@click.option("--name", help="Nom (tableurs CSV/XLSX).")
@click.option("--provisional", is_flag=True, help="Marquer le référentiel comme provisoire.")
def referentiel_import(
    file: Path, code: str | None, version_: str | None, name: str | None, provisional: bool
) -> None:
    """Importe un référentiel depuis un fichier YAML, CSV ou XLSX (refusé en entier si invalide)."""
    meta = {"code": code, "version": version_, "name": name, "provisional": provisional}
    try:
        spec = parse_file(file.name, file.read_bytes(), meta)
        framework = save_framework(db.session, spec)
    except ImportRefused as refused:
        db.session.rollback()
        click.echo(
            f"Fichier refusé, rien n’a été importé ({len(refused.problems)} problème(s)) :",
            err=True,
        )
        for problem in refused.problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(
        f"Importé : {framework.code} v{framework.version}, "
        f"{spec.criteria_count} critères en {len(spec.sections)} sections."
    )


@referentiel_cli.command("list")
def referentiel_list() -> None:
    """Liste les référentiels et leurs versions."""
    for summary in list_frameworks(db.session):
        f = summary.framework
        flag = " (provisoire)" if f.provisional else ""
        click.echo(
            f"{f.code:<16} v{f.version:<16} {summary.criteria_count:>4} critères{flag}  {f.name}"
        )


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "full_name", help="Nom affiché (par défaut : l’adresse).")
@click.option("--school", "school_name", help="Nom court de l’école (par défaut : la seule).")
@click.option("--site", "site_code", help="Code du site, obligatoire pour le rôle site.")
@click.password_option(help="Mot de passe (demandé s’il n’est pas donné).")
def users_create(
    email: str,
    role: str,
    full_name: str | None,
    school_name: str | None,
    site_code: str | None,
    password: str,
) -> None:
    """Crée un compte."""
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise click.ClickException(f"Un compte {email} existe déjà.")
    schools = list(db.session.scalars(select(School)))
    school = (
        next((s for s in schools if s.short_name == school_name), None)
        if school_name
        else (schools[0] if len(schools) == 1 else None)
    )
    if school is None:
        raise click.ClickException("Indiquez l’école avec --school (nom court).")
    site = None
    if site_code:
        site = db.session.scalar(
            select(Site).where(Site.school_id == school.id, Site.code == site_code)
        )
        if site is None:
            raise click.ClickException(f"Site inconnu : {site_code}.")
    if Role(role) is Role.SITE_MANAGER and site is None:
        raise click.ClickException("Le rôle site exige --site.")
    if len(password) < 10:
        raise click.ClickException("Le mot de passe doit compter au moins 10 caractères.")
    user = User(
        email=email, full_name=full_name or email, role=Role(role), school=school, site=site
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Compte créé : {email} ({Role(role).label}).")


@users_cli.command("token")
@click.argument("email")
@click.option("--label", default="", help="À quoi sert ce jeton.")
def users_token(email: str, label: str) -> None:
    """Crée un jeton d’API pour un compte ; il n’est affiché qu’une fois."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"Compte inconnu : {email}.")
    token, clear = ApiToken.issue(user, label)
    db.session.add(token)
    db.session.commit()
    click.echo(clear)


@evidence_cli.command("verify")
def evidence_verify() -> None:
    """Recalcule l’empreinte de chaque version stockée ; signale fichiers manquants ou altérés."""
    from .evidence.service import verify
    from .storage import EVIDENCE, storage_for

    report = verify(db.session, storage_for(current_app, EVIDENCE))
    for version in report.missing:
        click.echo(f"MANQUANT  preuve {version.evidence_id} v{version.number} "
                   f"« {version.filename} » ({version.storage_key})", err=True)
    for version in report.altered:
        click.echo(f"ALTÉRÉ    preuve {version.evidence_id} v{version.number} "
                   f"« {version.filename} » : empreinte ou taille différente", err=True)
    for key in report.orphans:
        click.echo(f"ORPHELIN  objet {key} sans version en base", err=True)
    click.echo(f"{report.checked} version(s) vérifiée(s) : {len(report.missing)} manquante(s), "
               f"{len(report.altered)} altérée(s), {len(report.orphans)} objet(s) orphelin(s).")
    if not report.ok:
        raise SystemExit(1)


def _reference_day(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"« {value} » n’est pas une date AAAA-MM-JJ.") from None


@reminders_cli.command("send")
@click.option("--date", "day", callback=_reference_day, metavar="AAAA-MM-JJ",
              help="Jour de référence (par défaut : aujourd’hui, heure de Paris).")
@click.option("--dry-run", is_flag=True, help="Montrer ce qui partirait, sans rien envoyer.")
def reminders_send(day: date | None, dry_run: bool) -> None:
    """Envoie à chaque responsable ses actions en retard et celles à échéance sous 14 jours."""
    from .findings.reminders import ReminderError, send_digests

    today = day or local_today()
    try:
        report = send_digests(current_app, today, dry_run=dry_run)
    except ReminderError as error:
        click.echo(f"Échec de l’envoi des rappels : {error}", err=True)
        raise SystemExit(1) from None
    count = len(report.planned)
    if not count:
        click.echo(f"Aucun e-mail à envoyer au {today:%d/%m/%Y} : rien en retard ni à échéance "
                   "sous 14 jours.")
        return
    if dry_run:
        for message in report.planned:
            click.echo(f"  {message['To']} : {message['Subject']}")
        click.echo(f"Simulation : {count} e-mail(s) prêt(s), aucun envoyé.")
        return
    for address, reason in report.refused:
        click.echo(f"Refusé par le serveur SMTP : {address} ({reason})", err=True)
    sent = len(report.sent)
    click.echo(f"{sent} e-mail envoyé." if sent == 1 else f"{sent} e-mails envoyés.")
    if report.refused:
        raise SystemExit(1)


@dossier_cli.command("worker")
@click.option("--burst", is_flag=True, help="S’arrêter quand la file est vide.")
def dossier_worker(burst: bool) -> None:
    """Sert la file RQ des dossiers (DOSSIER_QUEUE=rq, REDIS_URL) ; Ctrl+C pour arrêter."""
    from . import jobs
    from .dossier.builds import DOSSIER_BUILD

    if jobs.settings(current_app, DOSSIER_BUILD).queue != jobs.RQ:
        raise click.ClickException(
            "La file des dossiers est « inprocess » : les dossiers se construisent dans le "
            "serveur web. Réglez AUDIT_TRACKER_DOSSIER_QUEUE=rq et AUDIT_TRACKER_REDIS_URL.")
    lost = jobs.recover_lost(db.session, current_app)
    if lost:
        click.echo(f"{lost} construction(s) interrompue(s) marquée(s) en échec.")
    jobs.run_worker(current_app, [DOSSIER_BUILD], burst=burst)


@schools_cli.command("create")
@click.argument("name")
@click.option("--short-name", required=True, help="Nom court, unique (ex. « E2C Var »).")
@click.option("--city", default="", help="Ville du siège.")
@click.option("--site", "sites", multiple=True, required=True, metavar="CODE=NOM",
              help="Un site (répéter l’option pour chaque site).")
@click.option("--director", "director_email", required=True,
              help="Adresse e-mail du premier compte (direction).")
@click.option("--director-name", default="", help="Nom affiché du premier compte.")
@click.option("--referentiel", "referentiels", multiple=True, metavar="CODE",
              help="Code d’un référentiel suivi (voir « flask referentiel list ») ; au moins "
                   "un, répéter l’option pour chacun.")
def schools_create(name: str, short_name: str, city: str, sites: tuple[str, ...],
                   director_email: str, director_name: str,
                   referentiels: tuple[str, ...]) -> None:
    """Crée une école, ses sites, ses référentiels suivis et son compte de direction (mot de
    passe affiché une fois)."""
    from .accounts.schools import NewSchool, SchoolError, create_school, parse_sites

    try:
        created = create_school(db.session, NewSchool(
            name=name, short_name=short_name, city=city, sites=parse_sites("\n".join(sites)),
            director_email=director_email, director_name=director_name,
            referentiels=list(referentiels)))
    except SchoolError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    codes = ", ".join(site.code for site in created.school.sites)
    click.echo(f"École créée : {created.school.name} ({codes}).")
    click.echo("Référentiels suivis : " + ", ".join(created.school.referentiel_codes) + ".")
    click.echo(f"Compte de direction : {created.director.email}  mot de passe : "
               f"{created.password}  (affiché une seule fois)")


@schools_cli.command("list")
def schools_list() -> None:
    """Les écoles de l’instance, avec leurs sites et comptes."""
    from .accounts.schools import schools_overview

    for school, n_sites, n_users in schools_overview(db.session):
        followed = ", ".join(school.referentiel_codes) or "aucun référentiel suivi"
        click.echo(f"{school.short_name:<24} {school.name}  ({n_sites} site(s), "
                   f"{n_users} compte(s))  {followed}")


@click.command()
def check() -> None:
    """Vérifie la configuration : clé secrète, base migrée, stockage, file RQ, e-mails."""
    from .ops.checks import everything

    found = everything(current_app, db.session)
    for item in found:
        click.echo(f"{'OK    ' if item.ok else 'ERREUR'}  {item.message}", err=not item.ok)
    failed = sum(not item.ok for item in found)
    if failed:
        click.echo(f"{failed} problème(s) de configuration : corrigez-les avant de servir.",
                   err=True)
        raise SystemExit(1)
    click.echo("Configuration prête pour la production.")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="S’arrêter quand les files sont vides.")
def jobs_worker(burst: bool) -> None:
    """Sert les files RQ de tous les travaux en arrière-plan réglés sur « rq » (dossiers…)."""
    from . import jobs

    kinds = [kind for kind in jobs.registry(current_app).kinds.values()
             if jobs.settings(current_app, kind).queue == jobs.RQ]
    if not kinds:
        raise click.ClickException(
            "Aucun travail n’est réglé sur la file RQ : ils s’exécutent dans le serveur web. "
            "Réglez par exemple AUDIT_TRACKER_DOSSIER_QUEUE=rq et AUDIT_TRACKER_REDIS_URL.")
    lost = jobs.recover_lost(db.session, current_app)
    if lost:
        click.echo(f"{lost} travail(s) interrompu(s) marqué(s) en échec.")
    click.echo("File(s) servie(s) : " + ", ".join(
        jobs.settings(current_app, kind).rq_queue for kind in kinds))
    jobs.run_worker(current_app, kinds, burst=burst)


@readiness_cli.command("snapshot")
@click.option("--date", "day", callback=_reference_day, metavar="AAAA-MM-JJ",
              help="Jour de l’instantané (par défaut : aujourd’hui, heure de Paris).")
def readiness_snapshot(day: date | None) -> None:
    """Enregistre l’instantané du jour de chaque campagne (à lancer chaque soir, par cron)."""
    from .models import Campaign
    from .readiness.snapshots import record_daily

    today = day or local_today()
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.id)).all()
    for campaign in campaigns:
        snapshot = record_daily(db.session, campaign, today, replace=True)
        db.session.commit()
        share = snapshot.counts.get("demontrable", 0)
        click.echo(f"{campaign.name} : instantané du {today:%d/%m/%Y} au "
                   f"{snapshot.as_of:%d/%m/%Y}, {share} critère(s) démontrable(s).")
    if not campaigns:
        click.echo("Aucune campagne.")


@dossier_cli.command("build")
@click.argument("campaign_id", type=int)
@click.option("--output", "output", required=True, metavar="FICHIER.pdf",
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Chemin du PDF à écrire.")
@click.option("--zip", "zip_file", metavar="FICHIER.zip",
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Écrire aussi l’archive ZIP (PDF, fichiers originaux, manifest.csv).")
@click.option("--sans-annexes", is_flag=True, help="Ne pas joindre les annexes au PDF.")
@click.option("--donnees-personnelles", is_flag=True,
              help="Inclure les preuves contenant des données personnelles d’apprenants.")
@click.option("--referentiel", "frameworks", multiple=True, metavar="ID",
              help="Référentiel à inclure (identifiant ou code) ; répétable. Par défaut : tous.")
@click.option("--site", "sites", multiple=True, metavar="CODE",
              help="Site à inclure (code) ; répétable. Par défaut : tous.")
@click.option("--date", "day", callback=_reference_day, metavar="AAAA-MM-JJ",
              help="Date de référence (par défaut : le prochain audit).")
@click.option("--edition", type=click.Choice(["ecole", "interne"]), default="interne",
              show_default=True,
              help="ecole : le dossier à envoyer (argumentaire et pièces validées) ; interne : "
                   "la revue interne (états, motifs, preuves à valider).")
def dossier_build(campaign_id: int, output: Path, zip_file: Path | None, sans_annexes: bool,
                  donnees_personnelles: bool, frameworks: tuple[str, ...],
                  sites: tuple[str, ...], day: date | None, edition: str) -> None:
    """Construit le dossier de preuves d’une campagne."""
    from .dossier import DossierError, DossierOptions, DossierOptionsError, build_dossier
    from .models import Campaign
    from .pdf.fonts import FontMissing

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"Campagne inconnue : {campaign_id}.")
    framework_ids = []
    for value in frameworks:
        found = next((f for f in campaign.frameworks
                      if str(f.id) == value or f.code == value), None)
        if found is None:
            known = ", ".join(f"{f.id} ({f.code})" for f in campaign.frameworks)
            raise click.ClickException(
                f"Référentiel « {value} » non suivi par la campagne ; suivis : {known}.")
        framework_ids.append(found.id)
    site_ids = []
    for code in sites:
        site = next((s for s in campaign.school.sites if s.code == code), None)
        if site is None:
            known = ", ".join(s.code for s in campaign.school.sites)
            raise click.ClickException(f"Site inconnu : « {code} » ; sites : {known}.")
        site_ids.append(site.id)
    from .dossier.options import Edition

    options = DossierOptions(edition=Edition(edition),
                             framework_ids=tuple(dict.fromkeys(framework_ids)),
                             site_ids=tuple(dict.fromkeys(site_ids)),
                             with_annexes=not sans_annexes,
                             include_personal_data=donnees_personnelles, as_of=day)

    def show(percent: int, label: str) -> None:
        click.echo(f"{percent:>3} % {label}", err=True)

    try:
        result = build_dossier(db.session, campaign, options, output, zip_path=zip_file,
                               progress=show)
    except DossierOptionsError as error:
        raise click.ClickException(" ".join(error.messages)) from None
    except (DossierError, FontMissing, OSError) as error:
        raise click.ClickException(f"Dossier non construit : {error}") from None
    click.echo(f"Dossier écrit : {result.pdf_path} ({result.page_count} pages, "
               f"{result.piece_count} pièces, {result.size} octets, SHA-256 {result.sha256}).")
    if result.zip_path:
        click.echo(f"Archive écrite : {result.zip_path}.")


@journal_cli.command("verify")
def journal_verify() -> None:
    """Walk the journal's chain: exit code 1 on any altered, deleted or inserted entry."""
    from .journal.chain import verify

    with db.engine.connect() as connection:
        verdict = verify(connection)
    for problem in verdict.problems:
        click.echo(f"ALTÉRÉ : {problem}", err=True)
    if not verdict.ok:
        click.echo(f"Journal altéré : {len(verdict.problems)} problème(s) sur "
                   f"{verdict.checked} entrées.", err=True)
        raise SystemExit(1)
    click.echo(f"Journal intègre : {verdict.checked} entrées, tête n° {verdict.head_seq} "
               f"{verdict.head_hash}.")


@journal_cli.command("head")
def journal_head() -> None:
    """Print the chain's head (position and hash), to note outside the database."""
    from .journal.service import head

    seq, digest = head(db.session)
    click.echo(f"{seq} {digest}")


def _backup_storages() -> dict[str, Any]:
    from .storage import NAMESPACES, storage_for

    return {namespace.name: storage_for(current_app, namespace) for namespace in NAMESPACES}


def _default_backup_path() -> Path:
    from .clock import utcnow

    folder = Path(current_app.instance_path) / "backups"
    return folder / f"audit-tracker-{utcnow():%Y%m%d-%H%M%S}.zip"


def _backup_path(_ctx, _param, value: str | None) -> Path | None:
    return None if value is None else Path(value)


@backup_cli.command("create")
@click.argument("path", required=False, callback=_backup_path)
def backup_create(path: Path | None) -> None:
    """Write one archive: every table's rows (one read transaction) and every stored file."""
    from .backup import archive

    target = path or _default_backup_path()
    if target.exists():
        raise click.ClickException(f"{target} existe déjà : choisissez un autre nom.")
    summary = archive.create(db.engine, db.metadata, _backup_storages(), target)
    click.echo(f"Sauvegarde écrite : {target} ({summary.rows} ligne(s) dans "
               f"{len(summary.tables)} table(s), {sum(summary.objects.values())} fichier(s), "
               f"schéma {summary.revision or 'non migré'}).")


@backup_cli.command("verify")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_verify(path: Path) -> None:
    """Read every member of an archive back against its manifest: exit code 1 on any problem."""
    from .backup import archive

    try:
        summary, problems = archive.verify(path)
    except archive.BackupRefused as error:
        click.echo(str(error), err=True)
        raise SystemExit(1) from None
    for problem in problems:
        click.echo(f"ALTÉRÉ : {problem}", err=True)
    if problems:
        click.echo(f"Archive altérée : {len(problems)} problème(s).", err=True)
        raise SystemExit(1)
    click.echo(f"Archive intègre : {summary.rows} ligne(s), {sum(summary.objects.values())} "
               f"fichier(s), schéma {summary.revision}, faite le {summary.created_at} "
               f"sur {summary.dialect}.")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_restore(path: Path) -> None:
    """Restore an archive into this instance, which must be migrated and hold no data."""
    from .backup import archive
    from .storage import upload_tmp_dir

    db.session.remove()  # the restore writes on its own connection
    try:
        summary = archive.restore(db.engine, db.metadata, _backup_storages(), path,
                                  upload_tmp_dir(current_app))
    except archive.BackupRefused as error:
        click.echo(str(error), err=True)
        raise SystemExit(1) from None
    click.echo(f"Restauration terminée : {summary.rows} ligne(s) dans {len(summary.tables)} "
               f"table(s), {sum(summary.objects.values())} fichier(s). Vérifiez avec "
               "« flask backup verify », « flask evidence verify » et « flask journal verify ».")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Lister sans rien effacer.")
def retention_run(dry_run: bool) -> None:
    """Erase the proofs with personal data past their retention date (rows, then files)."""
    from .evidence import erasure
    from .storage import EVIDENCE, storage_for

    today = local_today()
    due = erasure.past_retention(db.session, today)
    for evidence in due:
        click.echo(f"{'À EFFACER' if dry_run else 'EFFACÉE'}  preuve {evidence.id} "
                   f"« {evidence.title} » : conservation jusqu’au "
                   f"{evidence.retention_until:%d/%m/%Y}, {len(evidence.versions)} fichier(s)")
    for evidence in erasure.due_within(db.session, today):
        click.echo(f"BIENTÔT   preuve {evidence.id} « {evidence.title} » : effacée après le "
                   f"{evidence.retention_until:%d/%m/%Y}")
    warnings = erasure.warnings_due(db.session, today)
    if dry_run:
        for warning in warnings:
            click.echo(f"AVERTIR   {warning.recipient.email} : {len(warning.proofs)} preuve(s)")
        click.echo(f"{len(due)} preuve(s) à effacer (essai : rien n’a été effacé).")
        return
    erased = [erasure.erase_evidence(db.session, evidence, "durée de conservation dépassée")
              for evidence in due]
    db.session.commit()
    files = erasure.erase_files(storage_for(current_app, EVIDENCE), erased)
    click.echo(f"{len(erased)} preuve(s) effacée(s), {files} fichier(s) supprimé(s) du stockage.")
    if not _send_retention_warnings(warnings):
        raise SystemExit(1)


def _send_retention_warnings(warnings: list) -> bool:
    """E-mail each quality lead the proofs whose erasure comes within a month, once per
    retention date (journaled when sent); False when the relay failed."""
    from .evidence import erasure
    from .findings.reminders import ReminderError, mail_configured, send_message, url_builder

    if not warnings:
        return True
    config = current_app.config
    if not mail_configured(config):
        click.echo(f"{len(warnings)} avertissement(s) non envoyé(s) : aucun expéditeur "
                   "configuré (AUDIT_TRACKER_MAIL_FROM).", err=True)
        return True
    url_for = url_builder(current_app)
    sent = 0
    for warning in warnings:
        message = erasure.warning_message(
            warning, config["MAIL_FROM"],
            lambda evidence_id: url_for("evidence.detail", evidence_id=evidence_id))
        try:
            send_message(config, message)
        except ReminderError as error:
            click.echo(f"Avertissement non envoyé à {warning.recipient.email} : {error}",
                       err=True)
            return False
        erasure.record_warned(db.session, warning)
        db.session.commit()  # each one sent is remembered, even if a later one fails
        sent += 1
    click.echo(f"{sent} avertissement(s) de fin de conservation envoyé(s) par e-mail.")
    return True


@evidence_cli.command("erase")
@click.argument("evidence_id", type=int)
@click.option("--version", "number", type=int, help="N’effacer que cette version.")
@click.option("--reason", required=True, help="Pourquoi (inscrit au journal).")
def evidence_erase(evidence_id: int, number: int | None, reason: str) -> None:
    """Erase a proof (or one version) for good, on the direction's request: tombstone kept."""
    from .evidence import erasure
    from .evidence.service import EvidenceError
    from .models import Evidence
    from .storage import EVIDENCE, storage_for

    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        raise click.ClickException(f"Preuve inconnue : {evidence_id}.")
    try:
        if number is None:
            erased = erasure.erase_evidence(db.session, evidence, reason)
        else:
            version = next((v for v in evidence.versions if v.number == number), None)
            if version is None:
                raise click.ClickException(f"La preuve {evidence_id} n’a pas de version {number}.")
            erased = erasure.erase_version(db.session, version, reason)
    except EvidenceError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    files = erasure.erase_files(storage_for(current_app, EVIDENCE), [erased])
    click.echo(f"Effacé : preuve {evidence_id}"
               + (f" v{number}" if number is not None else "")
               + f", {files} fichier(s) supprimé(s) ; pierre tombale inscrite au journal.")
