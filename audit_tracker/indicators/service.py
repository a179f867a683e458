"""Key indicators: save a site's monthly counts, edit targets, and build the table of rates.

Only counts are entered; every rate is computed here from counts and compared with the targets,
which are data (``IndicatorTarget``). A rate over several sites or months is always weighted:
the sum of its numerators over the sum of its denominators, never a mean of percentages
(TPM's 22 % weighs 134 entries, Provence Verte's 14 % weighs 29). Values keep full precision;
they are rounded only when shown (``display.format_value``, ``display.format_gap``).

Two functions are a contract with the PDF dossier, which shows the same table and chart:
``indicator_table(school, *, sites=None, start=None, end=None)`` and
``charts.indicator_chart(table, indicator=...)``. Keep their signatures stable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from ..domain.errors import Conflict, DomainError, flush_or_conflict
from ..extensions import db
from ..models import (
    COUNT_COLUMNS,
    Comparison,
    IndicatorEntry,
    IndicatorTarget,
    Role,
    School,
    Site,
    User,
)

#: Above this a monthly count is a typing error, not a school (and it keeps within INTEGER).
MAX_COUNT = 100_000


class IndicatorError(DomainError):
    """A user-facing reason why an indicator operation was refused (French message)."""


# --------------------------------------------------------------------------------- the counts

#: What each counted column means, as the forms, the import and the tables say it.
COUNT_LABELS = {
    "entries": _l("Stagiaires entrés"),
    "from_qpv": _l("dont issus des QPV"),
    "without_diploma": _l("dont non-diplômés"),
    "host_companies": _l("Entreprises accueillant un stagiaire pour la première fois"),
    "exits": _l("Sorties (toutes)"),
    "exits_training": _l("Sorties en formation qualifiante ou diplômante"),
    "exits_employment": _l("Sorties en emploi"),
    "exits_work_study": _l("Sorties en alternance"),
}


@dataclass
class Counts:
    """Counts of one site and month, or their sum over sites and months."""

    entries: int = 0
    from_qpv: int = 0
    without_diploma: int = 0
    host_companies: int = 0
    exits: int = 0
    exits_training: int = 0
    exits_employment: int = 0
    exits_work_study: int = 0
    months: int = 0  # how many months were summed (the denominator of monthly averages)

    @property
    def positive_exits(self) -> int:
        return self.exits_training + self.exits_employment + self.exits_work_study

    @classmethod
    def of(cls, entry: IndicatorEntry) -> Counts:
        return cls(**{name: getattr(entry, name) for name in COUNT_COLUMNS}, months=1)

    def add(self, other: Counts) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def as_dict(self) -> dict[str, int]:
        """The stored counts plus the positive exits (what the API and the import show)."""
        data = {name: getattr(self, name) for name in COUNT_COLUMNS}
        data["positive_exits"] = self.positive_exits
        return data


def check_counts(counts: Counts) -> list[str]:
    """Every reason these counts cannot be true, in French; empty when they can."""
    problems = []
    for name in COUNT_COLUMNS:
        value = getattr(counts, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(_("« %(field)s » doit être un nombre entier positif ou nul.",
                              field=COUNT_LABELS[name]))
        elif value > MAX_COUNT:
            problems.append(_("« %(field)s » : %(value)s est invraisemblable pour un mois "
                              "(au plus %(max)s).", field=COUNT_LABELS[name], value=value,
                              max=MAX_COUNT))
    if problems:
        return problems
    if counts.from_qpv > counts.entries:
        problems.append(_("Les stagiaires issus des QPV (%(part)s) ne peuvent pas dépasser les "
                          "stagiaires entrés (%(entries)s).", part=counts.from_qpv,
                          entries=counts.entries))
    if counts.without_diploma > counts.entries:
        problems.append(_("Les non-diplômés (%(part)s) ne peuvent pas dépasser les stagiaires "
                          "entrés (%(entries)s).", part=counts.without_diploma,
                          entries=counts.entries))
    if counts.positive_exits > counts.exits:
        problems.append(_("Les sorties positives (formation + emploi + alternance = %(part)s) "
                          "ne peuvent pas dépasser le total des sorties (%(exits)s).",
                          part=counts.positive_exits, exits=counts.exits))
    return problems


def month_start(day: date) -> date:
    """The month a day belongs to, as stored: its first day."""
    return day.replace(day=1)


def can_edit_site(user: User, site: Site) -> bool:
    """A site manager enters their own site's counts only; editors enter every site's."""
    return site.school_id == user.school_id and (
        user.role is not Role.SITE_MANAGER or site.id == user.site_id
    )


def flush_entries(session: Session) -> None:
    """Write the pending counts or targets; someone else's save of the same rows is a
    ``Conflict``. The caller commits."""
    flush_or_conflict(session, _("Ces indicateurs ont été modifiés par quelqu’un d’autre "
                                 "pendant que vous travailliez ; rechargez la page : vos "
                                 "changements n’ont pas été enregistrés."))


def get_entry(session: Session, site: Site, period: date) -> IndicatorEntry | None:
    return session.scalar(
        select(IndicatorEntry).where(
            IndicatorEntry.site_id == site.id, IndicatorEntry.period == month_start(period)
        )
    )


def check_entry_scope(school: School, site: Site, period: date, author: User,
                      today: date | None) -> None:
    """Refuse another school's site, another site for a site manager, or a future month."""
    if site.school_id != school.id:
        raise IndicatorError(_("Ce site n’appartient pas à votre école."))
    if not can_edit_site(author, site):
        raise IndicatorError(_("Vous ne pouvez saisir les indicateurs que de votre site."))
    if today is not None and month_start(period) > month_start(today):
        raise IndicatorError(_("Le mois %(month)s n’est pas encore commencé : on ne saisit que "
                               "des mois en cours ou passés.", month=period.strftime("%m/%Y")))


def save_entry(
    session: Session,
    school: School,
    site: Site,
    period: date,
    counts: Counts,
    author: User,
    *,
    seen_lock_version: int | None = None,
    today: date | None = None,
) -> IndicatorEntry:
    """Create or update one site's counts for one month (flushed; the caller commits).

    ``seen_lock_version`` is the version the user's form was built from; None for a blank form.
    Saving over a month that someone else saved since (or that already existed behind a blank
    form) is a ``Conflict``: nothing is overwritten silently.
    """
    check_entry_scope(school, site, period, author, today)
    problems = check_counts(counts)
    if problems:
        raise IndicatorError(" ".join(problems))
    period = month_start(period)
    entry = get_entry(session, site, period)
    if entry is None:
        entry = IndicatorEntry(school_id=school.id, site_id=site.id, period=period)
        session.add(entry)
    elif seen_lock_version is None:
        raise Conflict(_("Les indicateurs de %(site)s pour %(month)s sont déjà saisis : "
                         "ouvrez-les depuis le détail par mois pour les modifier. Rien n’a été "
                         "enregistré.", site=site.name, month=period.strftime("%m/%Y")))
    elif entry.lock_version != seen_lock_version:
        raise Conflict(_("Les indicateurs de %(site)s pour %(month)s ont été modifiés par "
                         "quelqu’un d’autre depuis que vous avez ouvert le formulaire ; "
                         "rechargez la page pour voir les chiffres actuels. Vos changements "
                         "n’ont pas été enregistrés.", site=site.name,
                         month=period.strftime("%m/%Y")))
    for name in COUNT_COLUMNS:
        setattr(entry, name, getattr(counts, name))
    entry.updated_by_id = author.id
    flush_entries(session)
    return entry


# ------------------------------------------------------------------------------ the indicators

RATE = "rate"
MONTHLY = "monthly"


@dataclass(frozen=True)
class Indicator:
    """A computed indicator: a rate of two counts, or a monthly average of one count."""

    code: str
    label: str
    short_label: str
    kind: str  # RATE or MONTHLY
    numerator: tuple[str, ...]
    denominator: str | None = None  # a count for a rate; the months for a monthly average

    @property
    def is_rate(self) -> bool:
        return self.kind == RATE

    def value(self, counts: Counts) -> float | None:
        """The indicator over ``counts``; None when its denominator is 0 (shown « — »)."""
        top = sum(getattr(counts, name) for name in self.numerator)
        bottom = counts.months if self.kind == MONTHLY else getattr(counts, self.denominator)
        return top / bottom if bottom else None


INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in (
        Indicator("qpv_rate", _l("Part de stagiaires issus des QPV"), _l("QPV"), RATE,
                  ("from_qpv",), "entries"),
        Indicator("without_diploma_rate", _l("Part de stagiaires non diplômés"),
                  _l("Non-diplômés"), RATE, ("without_diploma",), "entries"),
        Indicator("positive_exit_rate", _l("Taux de sorties positives"),
                  _l("Sorties positives"), RATE,
                  ("exits_training", "exits_employment", "exits_work_study"), "exits"),
        Indicator("monthly_entries", _l("Stagiaires entrés par mois"), _l("Entrées par mois"),
                  MONTHLY, ("entries",)),
    )
}


@dataclass(frozen=True)
class Measure:
    """One indicator on one row, with the target that applies there."""

    indicator: Indicator
    value: float | None
    target: IndicatorTarget | None = None

    @property
    def gap(self) -> float | None:
        """Value minus target, in the value's unit (a fraction for a rate)."""
        if self.value is None or self.target is None:
            return None
        return self.value - self.target.value

    @property
    def gap_points(self) -> float | None:
        """For a rate, the gap in percentage points (0.16 against 0.40 → −24)."""
        gap = self.gap
        return None if gap is None or not self.indicator.is_rate else gap * 100

    @property
    def met(self) -> bool | None:
        """Whether the target is reached; None without a value or a target."""
        if self.value is None or self.target is None:
            return None
        if self.target.comparison is Comparison.MIN:
            return self.value >= self.target.value
        return self.value <= self.target.value


@dataclass
class IndicatorRow:
    """A line of the table: a site over the period, a site in one month, or the total."""

    label: str
    counts: Counts
    measures: dict[str, Measure]
    site: Site | None = None
    period: date | None = None  # set on the per-month rows
    entry: IndicatorEntry | None = None  # the stored entry behind a per-month row

    @property
    def is_total(self) -> bool:
        return self.site is None

    def __getitem__(self, code: str) -> Measure:
        return self.measures[code]


@dataclass
class IndicatorTable:
    """The source document's « Informations clés » table: one row per site, a weighted total,
    and the per-month detail, each value compared with its target."""

    school: School
    start: date | None
    end: date | None
    sites: list[Site]
    rows: list[IndicatorRow]  # one per site, in the order of ``sites``
    total: IndicatorRow  # sums of counts; its rates are sum / sum
    months: list[IndicatorRow]  # one per site and month entered, by site then month
    periods: list[date]  # the months that have counts, in order
    targets: list[IndicatorTarget]
    indicators: list[Indicator] = field(default_factory=lambda: list(INDICATORS.values()))

    def months_of(self, site: Site) -> list[IndicatorRow]:
        return [row for row in self.months if row.site is site]

    @property
    def is_empty(self) -> bool:
        return not self.months


def _target_for(targets: dict[tuple[int | None, str], IndicatorTarget], site_id: int | None,
                code: str) -> IndicatorTarget | None:
    """A site's own target, else the school's."""
    return targets.get((site_id, code)) or targets.get((None, code))


def _row(label: str, counts: Counts, targets, site: Site | None = None, **extra) -> IndicatorRow:
    site_id = site.id if site is not None else None
    measures = {
        code: Measure(indicator, indicator.value(counts), _target_for(targets, site_id, code))
        for code, indicator in INDICATORS.items()
    }
    return IndicatorRow(label, counts, measures, site=site, **extra)


def indicator_table(
    school: School,
    *,
    sites: Iterable[Site | int] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> IndicatorTable:
    """The key indicators of ``school`` per site and per month, with a weighted total.

    ``sites``: Site objects or ids (default: every site of the school, by opening date);
    ``start``/``end``: the months to include (any day of a month stands for that month; both
    ends included; None = open). Three SQL statements at most, whatever the number of sites
    and months. Rates are None when their denominator is 0.
    """
    session = object_session(school) or db.session
    chosen = list(sites) if sites is not None else None
    if chosen is None or any(not isinstance(s, Site) for s in chosen):
        site_query = select(Site).where(Site.school_id == school.id)
        if chosen is not None:
            site_query = site_query.where(Site.id.in_([getattr(s, "id", s) for s in chosen]))
        site_list = list(session.scalars(site_query.order_by(Site.opened_on, Site.name)))
    else:
        site_list = [s for s in chosen if isinstance(s, Site) and s.school_id == school.id]
    statement = select(IndicatorEntry).where(
        IndicatorEntry.school_id == school.id,
        IndicatorEntry.site_id.in_([s.id for s in site_list]),
    )
    if start is not None:
        statement = statement.where(IndicatorEntry.period >= month_start(start))
    if end is not None:
        statement = statement.where(IndicatorEntry.period <= month_start(end))
    entries = list(session.scalars(
        statement.order_by(IndicatorEntry.site_id, IndicatorEntry.period)
    )) if site_list else []
    target_rows = targets_of(session, school)
    targets = {(t.site_id, t.indicator): t for t in target_rows}

    by_site: dict[int, list[IndicatorEntry]] = {}
    for entry in entries:
        by_site.setdefault(entry.site_id, []).append(entry)
    rows, months = [], []
    total = Counts()
    for site in site_list:
        site_counts = Counts()
        for entry in by_site.get(site.id, []):
            counts = Counts.of(entry)
            site_counts.add(counts)
            months.append(_row(site.name, counts, targets, site, period=entry.period,
                               entry=entry))
        rows.append(_row(site.name, site_counts, targets, site))
        total.add(site_counts)
    periods = sorted({entry.period for entry in entries})
    # The school's monthly average divides by calendar months, not by site-months.
    total.months = len(periods)
    return IndicatorTable(
        school=school,
        start=month_start(start) if start else None,
        end=month_start(end) if end else None,
        sites=site_list,
        rows=rows,
        total=_row(_("Total"), total, targets),
        months=months,
        periods=periods,
        targets=target_rows,
    )


# ------------------------------------------------------------------------------------ targets


@dataclass
class TargetInput:
    """One line of the targets page. ``value`` is a fraction for a rate."""

    indicator: str
    value: float | None
    comparison: Comparison = Comparison.MIN
    site: Site | None = None
    source: str = ""
    id: int | None = None
    delete: bool = False


def targets_of(session: Session, school: School) -> list[IndicatorTarget]:
    """The school's targets: the whole school's first, then by indicator."""
    return list(session.scalars(
        select(IndicatorTarget).where(IndicatorTarget.school_id == school.id)
        .order_by(IndicatorTarget.site_id.is_not(None), IndicatorTarget.indicator,
                  IndicatorTarget.id)
    ))


def save_targets(session: Session, school: School, lines: list[TargetInput],
                 author: User) -> None:
    """Apply every line of the targets page at once, or none of them (French reasons)."""
    existing = {t.id: t for t in session.scalars(
        select(IndicatorTarget).where(IndicatorTarget.school_id == school.id)
    )}
    problems: list[str] = []
    kept: dict[tuple[int | None, str], int] = {}
    for number, line in enumerate(lines, start=1):
        where = _("Objectif %(n)s", n=number)
        if line.id is not None and line.id not in existing:
            problems.append(_("%(where)s : objectif introuvable.", where=where))
            continue
        if line.delete:
            continue
        indicator = INDICATORS.get(line.indicator)
        if indicator is None:
            problems.append(_("%(where)s : indicateur inconnu « %(code)s ».", where=where,
                              code=line.indicator))
            continue
        if line.site is not None and line.site.school_id != school.id:
            problems.append(_("%(where)s : ce site n’appartient pas à votre école.",
                              where=where))
            continue
        if line.value is None or line.value < 0:
            problems.append(_("%(where)s : indiquez une valeur positive ou nulle.", where=where))
        elif indicator.is_rate and line.value > 1:
            problems.append(_("%(where)s : un taux ne peut pas dépasser 100 %%.", where=where))
        if len(line.source or "") > 300:
            problems.append(_("%(where)s : la source ne doit pas dépasser 300 caractères.",
                              where=where))
        key = (line.site.id if line.site else None, indicator.code)
        if key in kept:
            problems.append(_("%(where)s : « %(indicator)s » a déjà un objectif pour %(scope)s "
                              "(objectif %(other)s).", where=where, indicator=indicator.label,
                              scope=line.site.name if line.site else _("toute l’école"),
                              other=kept[key]))
        kept[key] = number
    if problems:
        raise IndicatorError(" ".join(problems))
    for line in lines:
        if line.delete and line.id is not None:
            session.delete(existing[line.id])
    session.flush()  # deletions first: a line may take a deleted one's site and indicator
    for line in lines:
        if line.delete:
            continue
        target = existing[line.id] if line.id is not None else IndicatorTarget(
            school_id=school.id)
        target.site_id = line.site.id if line.site else None
        target.indicator = line.indicator
        target.comparison = line.comparison
        target.value = float(line.value)
        target.source = (line.source or "").strip()
        target.updated_by_id = author.id
        session.add(target)
    flush_entries(session)
