"""Read a référentiel from YAML, CSV or XLSX, check it whole, then write it in one transaction.

Reading and checking never touch the database session, so a refused file leaves nothing behind:
``parse_file`` → ``FrameworkSpec`` (or ``ImportRefused`` listing every problem with its place),
then ``save_framework`` adds the rows; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import tables
from ..models import (
    Criterion,
    CriterionMapping,
    FindingKind,
    FindingType,
    Framework,
    FrameworkCategory,
    Section,
)

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
ITEM_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
SCALE_CODE_RE = re.compile(r"^[a-z0-9_]{1,40}$")
MAX_TITLE = 2000

DEFAULT_SCALE_FILE = Path(__file__).resolve().parent / "data" / "e2c-label.yaml"


@cache
def default_scale() -> list[dict[str, Any]]:
    """The AFNOR Certification report vocabulary with its deadline rules, for spreadsheets,
    which carry no scale of their own: the shipped E2C file's, so the two never disagree."""
    return yaml.safe_load(DEFAULT_SCALE_FILE.read_text(encoding="utf-8"))["finding_scale"]


@cache
def default_levels() -> list[dict[str, Any]]:
    """The self-assessment scale of the shipped E2C file, for spreadsheets (they carry none)."""
    return yaml.safe_load(DEFAULT_SCALE_FILE.read_text(encoding="utf-8"))[
        "self_assessment_scale"]


@dataclass(frozen=True)
class Problem:
    where: str  # "ligne 12, colonne « title »" or "ligne 40 (section A, critère A3)"
    message: str

    def __str__(self) -> str:
        return f"{self.where} : {self.message}" if self.where else self.message


class ImportRefused(Exception):
    """The file was refused whole; ``problems`` says every reason and where."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class CriterionSpec:
    code: str
    title: str
    guidance: str = ""
    expected_evidence: str = ""
    obligations: str = ""
    applies_to: list[str] = field(default_factory=list)
    finding_types: list[str] | None = None
    indispensable: bool = False
    new_provider_adapted: bool = False


@dataclass
class SectionSpec:
    code: str
    title: str
    guidance: str = ""
    criteria: list[CriterionSpec] = field(default_factory=list)


@dataclass
class FrameworkSpec:
    code: str
    version: str
    name: str
    provisional: bool = False
    cycle_years: int | None = None
    published_on: date | None = None
    source: str = ""
    description: str = ""
    section_label: str = "Section"
    criterion_label: str = "Critère"
    categories: list[dict[str, str]] = field(default_factory=list)
    finding_scale: list[dict[str, Any]] = field(default_factory=list)
    rules: dict[str, Any] = field(default_factory=dict)
    self_assessment_scale: list[dict[str, str]] = field(default_factory=list)
    sections: list[SectionSpec] = field(default_factory=list)

    @property
    def criteria_count(self) -> int:
        return sum(len(s.criteria) for s in self.sections)


# --------------------------------------------------------------------------- YAML with line numbers

LINE_KEY = "__line__"


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers on which line each mapping starts."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE_KEY] = node.start_mark.line + 1
        return mapping


def _plain(value: Any) -> Any:
    """YAML data as JSON: without the line markers, dates as ISO strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _where_yaml(item: dict, label: str = "") -> str:
    line = item.get(LINE_KEY) if isinstance(item, dict) else None
    place = _("ligne %(line)s", line=line) if line else ""
    return f"{place} ({label})" if label and place else (place or label)


# ------------------------------------------------------------------------------- the one checker


class _Checker:
    """Turns a plain mapping into a ``FrameworkSpec``, collecting every problem on the way."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        #: (line, field) of spreadsheet cells already reported empty, so as not to report them twice
        self.reported: set[tuple[Any, str]] = set()

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def text(
        self, item: dict, key: str, where: str, required: bool = False, limit: int = MAX_TITLE
    ) -> str:
        value = item.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required and (item.get(LINE_KEY), key) not in self.reported:
                self.problem(where, _("le champ « %(field)s » est obligatoire", field=key))
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.problem(where, _("le champ « %(field)s » doit être un texte", field=key))
            return ""
        value = str(value).strip()
        if "\x00" in value:
            self.problem(where, _("le champ « %(field)s » contient un caractère nul", field=key))
            return ""
        if len(value) > limit:
            self.problem(
                where,
                _("le champ « %(field)s » dépasse %(limit)s caractères", field=key, limit=limit),
            )
        return value

    def boolean(self, item: dict, key: str, where: str) -> bool:
        value = item.get(key, False)
        if isinstance(value, bool):
            return value
        if value is None or value == "":
            return False
        normalised = str(value).strip().lower()
        if normalised in {"oui", "o", "true", "vrai", "1", "x", "yes"}:
            return True
        if normalised in {"non", "n", "false", "faux", "0", "no"}:
            return False
        self.problem(
            where,
            _(
                "le champ « %(field)s » doit valoir oui ou non (reçu « %(value)s »)",
                field=key,
                value=value,
            ),
        )
        return False

    def code_list(self, item: dict, key: str, where: str) -> list[str] | None:
        value = item.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            self.problem(where, _("le champ « %(field)s » doit être une liste de codes", field=key))
            return None
        return [str(v) for v in value]

    def framework(self, data: Any, where_top: str = "") -> FrameworkSpec | None:
        if not isinstance(data, dict):
            self.problem(where_top, _("le fichier ne décrit pas un référentiel (objet attendu)"))
            return None
        where = _where_yaml(data) or where_top
        code = self.text(data, "code", where, required=True, limit=60)
        if code and not CODE_RE.match(code):
            self.problem(
                where, _("code « %(code)s » invalide : minuscules, chiffres et tirets", code=code)
            )
        spec = FrameworkSpec(
            code=code,
            version=self.text(data, "version", where, required=True, limit=40),
            name=self.text(data, "name", where, required=True, limit=200),
            provisional=self.boolean(data, "provisional", where),
            source=self.text(data, "source", where),
            description=self.text(data, "description", where, limit=20000),
            section_label=self.text(data, "section_label", where, limit=40) or "Section",
            criterion_label=self.text(data, "criterion_label", where, limit=40) or "Critère",
        )
        cycle = data.get("cycle_years")
        if cycle is not None:
            if isinstance(cycle, int) and not isinstance(cycle, bool) and 0 < cycle <= 10:
                spec.cycle_years = cycle
            else:
                self.problem(where, _("« cycle_years » doit être un nombre d’années entre 1 et 10"))
        published = data.get("published_on")
        if published is not None:
            if isinstance(published, date):
                spec.published_on = published
            else:
                self.problem(where, _("« published_on » doit être une date AAAA-MM-JJ"))
        spec.categories = self.categories(data.get("categories") or [], where)
        spec.finding_scale = self.scale(data.get("finding_scale"), where)
        spec.rules = self.rules(data.get("rules"), where, spec)
        spec.self_assessment_scale = self.levels(data.get("self_assessment_scale"), where)
        spec.sections = self.sections(data.get("sections"), where, spec)
        return spec

    def categories(self, items: Any, where: str) -> list[dict[str, str]]:
        if not isinstance(items, list):
            self.problem(where, _("« categories » doit être une liste"))
            return []
        return [
            {"code": code, "label": self.text(item, "label", place, required=True, limit=200)}
            for item, place, code in self.coded(
                items, where, limit=20, invalid=_("catégorie invalide"), bad_code=None,
                duplicate=lambda code: _("catégorie « %(code)s » en double", code=code))
        ]

    def coded(self, items: list[Any], where: str, *, limit: int, invalid: str,
              bad_code: Callable[[str], str] | None,
              duplicate: Callable[[str], str]) -> Iterator[tuple[dict[str, Any], str, str]]:
        """Each entry of a list of coded items (categories, a finding scale, levels) with its
        place and code; an entry that is not an object, a code of the wrong form (when
        ``bad_code`` says how to name it) or a repeated code is said where it stands."""
        seen: set[str] = set()
        for item in items:
            place = _where_yaml(item) or where
            if not isinstance(item, dict):
                self.problem(place, invalid)
                continue
            code = self.text(item, "code", place, required=True, limit=limit)
            if code and bad_code is not None and not SCALE_CODE_RE.match(code):
                self.problem(place, bad_code(code))
            if code in seen:
                self.problem(place, duplicate(code))
            seen.add(code)
            yield item, place, code

    def scale(self, items: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(items, list) or not items:
            self.problem(where, _("« finding_scale » doit lister au moins un type de constat"))
            return []
        kinds = {k.value for k in FindingKind}
        result = []
        for item, place, code in self.coded(
                items, where, limit=40, invalid=_("type de constat invalide"),
                bad_code=lambda code: _("code de constat « %(code)s » invalide", code=code),
                duplicate=lambda code: _("type de constat « %(code)s » en double", code=code)):
            kind = item.get("kind")
            if kind not in kinds:
                self.problem(
                    place,
                    _(
                        "nature « %(kind)s » inconnue (attendu : %(kinds)s)",
                        kind=kind,
                        kinds=", ".join(sorted(kinds)),
                    ),
                )
            severity = item.get("severity", 0)
            if not isinstance(severity, int) or isinstance(severity, bool):
                self.problem(place, _("« severity » doit être un entier"))
                severity = 0
            result.append(
                {
                    "code": code,
                    "label": self.text(item, "label", place, required=True, limit=120),
                    "kind": kind,
                    "severity": severity,
                    **self.deadline(item.get("deadline"), place),
                }
            )
        known = {entry["code"] for entry in result}
        for entry in result:
            if entry["escalates_to"] and entry["escalates_to"] not in known:
                self.problem(where, _("« escalates_to » : type de constat « %(code)s » inconnu",
                                      code=entry["escalates_to"]))
        return result

    def rules(self, raw: Any, where: str, spec: FrameworkSpec) -> dict[str, Any]:
        """The scale's and the cycle's rules (see docs/referentiel-format.md), kept as JSON."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(where, _("« rules » doit être un objet"))
            return {}
        clean = _plain(raw)
        place = _where_yaml(raw) or where
        margin = (clean.get("accompaniment") or {}).get("margin_days")
        if margin is not None and (isinstance(margin, bool) or not isinstance(margin, int)
                                   or not 0 <= margin <= 365):
            self.problem(place, _("« margin_days » doit être un nombre de jours entre 0 et 365"))
        minors = clean.get("minors_make_major") or {}
        codes = {s["code"] for s in spec.finding_scale}
        if minors and (minors.get("type") not in codes or minors.get("as") not in codes):
            self.problem(place, _("« minors_make_major » : « type » et « as » doivent être des "
                                  "types de l’échelle"))
        count = minors.get("count") if minors else 1
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            self.problem(place, _("« minors_make_major » : « count » doit être un entier positif"))
        for step in clean.get("cycle") or []:
            if not isinstance(step, dict) or step.get("kind") not in {
                    "audit_suivi", "audit_renouvellement"}:
                self.problem(place, _("« cycle » : chaque étape a un « kind » audit_suivi ou "
                                      "audit_renouvellement"))
        commission = clean.get("commission") or {}
        for session in commission.get("sessions") or []:
            try:
                date.fromisoformat(str((session or {}).get("day")))
            except (AttributeError, ValueError):
                self.problem(place, _("« commission » : chaque séance a un « day » (AAAA-MM-JJ)"))
        months = (commission.get("pattern") or {}).get("months") or []
        if not isinstance(months, list) or not all(
                isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in months):
            self.problem(place, _("« commission » : « months » est une liste de mois de 1 à 12"))
        return clean
    def levels(self, items: Any, where: str) -> list[dict[str, str]]:
        """The self-assessment scale, lowest level first; optional (a grid without levels)."""
        if items is None:
            return []
        if not isinstance(items, list):
            self.problem(where, _("« self_assessment_scale » doit être une liste de niveaux"))
            return []
        return [
            {"code": code, "label": self.text(item, "label", place, required=True, limit=120)}
            for item, place, code in self.coded(
                items, where, limit=40, invalid=_("niveau d’auto-évaluation invalide"),
                bad_code=lambda code: _("code de niveau « %(code)s » invalide", code=code),
                duplicate=lambda code: _("niveau « %(code)s » en double", code=code))
        ]

    def deadline(self, raw: Any, where: str) -> dict[str, Any]:
        """The answer rule of a finding type: months after the audit, or before the next one."""
        rule: dict[str, Any] = {"plan_days": None, "action_months": None, "verify_months": None,
                                "before_next_audit": False,
                "escalates_to": None, "rule": ""}
        if raw is None:
            return rule
        if not isinstance(raw, dict):
            self.problem(where, _("« deadline » doit être un objet"))
            return rule
        plan = raw.get("plan_days")
        if plan is not None:
            if isinstance(plan, bool) or not isinstance(plan, int) or not 0 < plan <= 365:
                self.problem(where, _("« plan_days » doit être un nombre de jours entre 1 et 365"))
            else:
                rule["plan_days"] = plan
        for key in ("action_months", "verify_months"):
            value = raw.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 60:
                self.problem(where, _("« %(field)s » doit être un nombre de mois entre 1 et 60",
                                      field=key))
            else:
                rule[key] = value
        rule["before_next_audit"] = self.boolean(raw, "before_next_audit", where)
        if rule["before_next_audit"] and rule["action_months"]:
            self.problem(where, _("« deadline » : choisissez entre un délai en mois et « avant "
                                  "l’audit suivant »"))
        rule["escalates_to"] = self.text(raw, "escalates_to", where, limit=40) or None
        rule["rule"] = self.text(raw, "rule", where, limit=1000)
        return rule

    def sections(self, items: Any, where: str, spec: FrameworkSpec) -> list[SectionSpec]:
        if not isinstance(items, list) or not items:
            self.problem(where, _("le référentiel doit contenir au moins une section"))
            return []
        category_codes = {c["code"] for c in spec.categories}
        scale_codes = {s["code"] for s in spec.finding_scale}
        section_codes: set[str] = set()
        criterion_codes: set[str] = set()
        result = []
        for item in items:
            place = _where_yaml(item) or where
            if not isinstance(item, dict):
                self.problem(place, _("section invalide"))
                continue
            code = self.text(item, "code", place, required=True, limit=40)
            if code in section_codes:
                self.problem(place, _("section « %(code)s » en double", code=code))
            section_codes.add(code)
            section = SectionSpec(
                code=code,
                title=self.text(item, "title", place, required=True),
                guidance=self.text(item, "guidance", place, limit=20000),
            )
            criteria = item.get("criteria")
            if not isinstance(criteria, list) or not criteria:
                self.problem(place, _("la section « %(code)s » n’a aucun critère", code=code))
                criteria = []
            for raw in criteria:
                crit_place = _where_yaml(raw) or place
                if not isinstance(raw, dict):
                    self.problem(crit_place, _("critère invalide"))
                    continue
                criterion = self.criterion(raw, crit_place, category_codes, scale_codes)
                if criterion.code and criterion.code in criterion_codes:  # "" is said missing
                    self.problem(
                        crit_place, _("critère « %(code)s » en double", code=criterion.code)
                    )
                criterion_codes.add(criterion.code)
                section.criteria.append(criterion)
            result.append(section)
        return result

    def criterion(
        self, raw: dict, where: str, categories: set[str], scale: set[str]
    ) -> CriterionSpec:
        code = self.text(raw, "code", where, required=True, limit=40)
        if code and not ITEM_CODE_RE.match(code):
            self.problem(
                where,
                _("code de critère « %(code)s » invalide (lettres, chiffres, . - _)", code=code),
            )
        applies_to = self.code_list(raw, "applies_to", where) or []
        unknown = [c for c in applies_to if c not in categories]
        if unknown:
            self.problem(where, _("catégorie(s) inconnue(s) : %(codes)s", codes=", ".join(unknown)))
        finding_types = self.code_list(raw, "finding_types", where)
        unknown = [c for c in finding_types or [] if c not in scale]
        if unknown:
            self.problem(
                where, _("type(s) de constat inconnu(s) : %(codes)s", codes=", ".join(unknown))
            )
        return CriterionSpec(
            code=code,
            title=self.text(raw, "title", where, required=True),
            guidance=self.text(raw, "guidance", where, limit=20000),
            expected_evidence=self.text(raw, "expected_evidence", where, limit=20000),
            obligations=self.text(raw, "obligations", where, limit=20000),
            applies_to=applies_to,
            finding_types=finding_types,
            indispensable=self.boolean(raw, "indispensable", where),
            new_provider_adapted=self.boolean(raw, "new_provider_adapted", where),
        )


# ------------------------------------------------------------------------------------ the formats


def parse_yaml(text: str) -> FrameworkSpec:
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = (
            _("ligne %(line)s, colonne %(col)s", line=mark.line + 1, col=mark.column + 1)
            if mark
            else ""
        )
        why = getattr(error, "problem", None) or error
        raise ImportRefused([Problem(where, _("YAML illisible : %(why)s", why=why))]) from error
    return _check(data)


def _check(data: Any, where: str = "") -> FrameworkSpec:
    checker = _Checker()
    spec = checker.framework(data, where)
    if checker.problems or spec is None:
        raise ImportRefused(checker.problems)
    return spec


#: Accepted header names (lower case, accents kept) for each spreadsheet column.
COLUMN_ALIASES = {
    "section_code": {
        "section_code",
        "code_section",
        "section",
        "axe",
        "code axe",
        "critère qualiopi",
    },
    "section_title": {
        "section_title",
        "titre_section",
        "titre section",
        "intitulé section",
        "intitulé axe",
        "axe_titre",
    },
    "code": {"code", "code_critere", "code critère", "critère", "indicateur", "n°"},
    "title": {"title", "titre", "intitulé", "libellé", "intitule"},
    "guidance": {"guidance", "niveau attendu", "attendus", "commentaire", "description"},
    "expected_evidence": {
        "expected_evidence",
        "preuves",
        "exemples de preuves",
        "éléments de preuve",
        "preuves attendues",
    },
    "indispensable": {"indispensable", "critère indispensable"},
    "applies_to": {"applies_to", "catégories", "champ d'application"},
}
REQUIRED_COLUMNS = ("section_code", "code", "title")


def _canonical_header(name: Any) -> str | None:
    key = str(name or "").strip().lower()
    for column, aliases in COLUMN_ALIASES.items():
        if key in aliases:
            return column
    return None


def _cell(row: list[Any], index: int) -> Any:
    """A cell's value, text stripped; a missing or blank cell is ``None``."""
    value = row[index] if index < len(row) else None
    if isinstance(value, str):
        value = value.strip()
    return None if value == "" else value


def parse_rows(rows: list[list[Any]], meta: dict[str, Any], first_line: int = 1) -> FrameworkSpec:
    """Flat rows (header first) of a CSV or XLSX file, plus the framework's metadata."""
    if not rows:
        raise ImportRefused([Problem("", _("le fichier est vide"))])
    header = rows[0]
    columns: dict[str, int] = {}
    problems: list[Problem] = []
    for index, name in enumerate(header):
        column = _canonical_header(name)
        if column and column in columns:
            problems.append(
                Problem(
                    _("ligne %(line)s, colonne %(col)s", line=first_line, col=index + 1),
                    _("la colonne « %(name)s » est en double", name=name),
                )
            )
        elif column:
            columns[column] = index
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            problems.append(
                Problem(
                    _("ligne %(line)s", line=first_line),
                    _("colonne obligatoire « %(name)s » absente", name=column),
                )
            )
    if problems:
        raise ImportRefused(problems)

    checker = _Checker()
    sections: dict[str, dict[str, Any]] = {}
    categories_used: dict[str, int] = {}  # category code → first line using it
    for offset, row in enumerate(rows[1:], start=1):
        line = first_line + offset
        if all(_cell(row, i) is None for i in range(len(row))):
            continue  # blank lines are common at the end of a sheet
        item = {column: _cell(row, i) for column, i in columns.items()}
        for column in REQUIRED_COLUMNS:
            if item.get(column) is None:
                checker.problem(
                    _("ligne %(line)s, colonne « %(col)s »", line=line, col=column),
                    _("valeur obligatoire manquante"),
                )
                checker.reported.add((line, column))
        if isinstance(item.get("applies_to"), str):
            for code in item["applies_to"].split(","):
                if code.strip():
                    categories_used.setdefault(code.strip(), line)
        if item.get("section_code") is None:
            continue
        section_code = str(item["section_code"])
        section = sections.setdefault(
            section_code,
            {
                "code": section_code,
                "title": None,
                "criteria": [],
                LINE_KEY: line,
            },
        )
        title = item.get("section_title")
        if title and not section["title"]:
            section["title"] = str(title)
        criterion = {
            k: item.get(k)
            for k in (
                "code",
                "title",
                "guidance",
                "expected_evidence",
                "indispensable",
                "applies_to",
            )
        }
        criterion[LINE_KEY] = line
        section["criteria"].append(criterion)
    for section in sections.values():
        if not section["title"]:
            section["title"] = section["code"]  # a grid without section titles stays usable

    data = {
        **meta,
        # A spreadsheet declares no categories: the codes its applies_to column uses become them.
        "categories": meta.get("categories")
        or [{"code": c, "label": c, LINE_KEY: line} for c, line in categories_used.items()],
        "finding_scale": meta.get("finding_scale") or default_scale(),
        "self_assessment_scale": meta.get("self_assessment_scale") or default_levels(),
        "sections": list(sections.values()),
    }
    spec = checker.framework(data)
    if checker.problems or spec is None:
        raise ImportRefused(checker.problems)
    return spec


def parse_csv(raw: bytes, meta: dict[str, Any]) -> FrameworkSpec:
    return parse_rows(_table(tables.csv_rows, raw), meta)


def parse_xlsx(raw: bytes, meta: dict[str, Any]) -> FrameworkSpec:
    return parse_rows(_table(tables.xlsx_rows, raw), meta)


def _table(read, raw: bytes) -> list[list[Any]]:
    try:
        return read(raw)
    except tables.UnreadableTable as error:
        where = _("ligne %(line)s", line=error.line) if error.line else ""
        raise ImportRefused([Problem(where, error.reason)]) from error


def parse_file(name: str, raw: bytes, meta: dict[str, Any] | None = None) -> FrameworkSpec:
    """Dispatch on the file's extension; ``meta`` gives code/version/name for spreadsheets."""
    suffix = Path(name).suffix.lower()
    if suffix in {".yaml", ".yml"}:
        try:
            return parse_yaml(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            message = _("le fichier YAML doit être encodé en UTF-8")
            raise ImportRefused([Problem("", message)]) from None
    if suffix in {".csv", ".xlsx"}:
        meta = meta or {}
        missing = [k for k in ("code", "version", "name") if not meta.get(k)]
        if missing:
            raise ImportRefused(
                [
                    Problem(
                        "",
                        _(
                            "pour un tableur, indiquez aussi : %(fields)s",
                            fields=", ".join(missing),
                        ),
                    )
                ]
            )
        parser = parse_csv if suffix == ".csv" else parse_xlsx
        return parser(raw, meta)
    raise ImportRefused(
        [
            Problem(
                "",
                _(
                    "format non pris en charge : %(suffix)s (YAML, CSV ou XLSX)",
                    suffix=suffix or "?",
                ),
            )
        ]
    )


# ----------------------------------------------------------------------------------- the database


def save_framework(session: Session, spec: FrameworkSpec) -> Framework:
    """Add a checked framework; refuses an existing (code, version) instead of altering it."""
    existing = session.scalar(
        select(Framework.id).where(Framework.code == spec.code, Framework.version == spec.version)
    )
    if existing:
        raise ImportRefused(
            [
                Problem(
                    "",
                    _(
                        "la version « %(version)s » du référentiel « %(code)s » existe déjà ; "
                        "donnez un autre numéro de version pour l’importer à côté",
                        version=spec.version,
                        code=spec.code,
                    ),
                )
            ]
        )
    framework = Framework(
        code=spec.code,
        version=spec.version,
        name=spec.name,
        provisional=spec.provisional,
        cycle_years=spec.cycle_years,
        published_on=spec.published_on,
        source=spec.source,
        description=spec.description,
        section_label=spec.section_label,
        criterion_label=spec.criterion_label,
        rules=spec.rules,
        self_assessment_scale=[{"code": level["code"], "label": level["label"]}
                               for level in spec.self_assessment_scale],
    )
    framework.categories = [
        FrameworkCategory(position=i, **c) for i, c in enumerate(spec.categories)
    ]
    framework.finding_types = [
        FindingType(
            position=i,
            code=s["code"],
            label=s["label"],
            kind=FindingKind(s["kind"]),
            severity=s["severity"],
            plan_days=s.get("plan_days"),
            action_months=s.get("action_months"),
            verify_months=s.get("verify_months"),
            before_next_audit=s.get("before_next_audit", False),
            escalates_to=s.get("escalates_to"),
            rule=s.get("rule", ""),
        )
        for i, s in enumerate(spec.finding_scale)
    ]
    position = 0
    for section_position, section_spec in enumerate(spec.sections):
        section = Section(
            code=section_spec.code,
            title=section_spec.title,
            guidance=section_spec.guidance,
            position=section_position,
        )
        framework.sections.append(section)
        for c in section_spec.criteria:
            framework.criteria.append(
                Criterion(
                    section=section,
                    code=c.code,
                    title=c.title,
                    guidance=c.guidance,
                    expected_evidence=c.expected_evidence,
                    obligations=c.obligations,
                    applies_to=list(c.applies_to),
                    finding_types=list(c.finding_types) if c.finding_types is not None else None,
                    indispensable=c.indispensable,
                    new_provider_adapted=c.new_provider_adapted,
                    position=position,
                )
            )
            position += 1
    session.add(framework)
    session.flush()
    return framework


def latest_framework(session: Session, code: str) -> Framework | None:
    """The most recently imported version of a framework."""
    return session.scalar(
        select(Framework).where(Framework.code == code).order_by(Framework.id.desc()).limit(1)
    )


def save_mapping(session: Session, data: dict[str, Any]) -> int:
    """Link criteria of two frameworks (latest versions); returns how many links were added."""
    source = latest_framework(session, data["from"])
    target = latest_framework(session, data["to"])
    if source is None or target is None:
        return 0
    by_code_from = {c.code: c for c in source.criteria}
    by_code_to = {c.code: c for c in target.criteria}
    existing: set[tuple[int, int]] = set(
        session.execute(
            select(CriterionMapping.from_criterion_id, CriterionMapping.to_criterion_id).where(
                CriterionMapping.from_criterion_id.in_([c.id for c in source.criteria])
            )
        ).all()
    )
    added = 0
    for link in data.get("links", []):
        origin = by_code_from.get(str(link["from"]))
        if origin is None:
            continue
        for code in link.get("to", []):
            destination = by_code_to.get(str(code))
            if destination is None or (origin.id, destination.id) in existing:
                continue
            session.add(
                CriterionMapping(
                    from_criterion=origin, to_criterion=destination, note=link.get("note", "")
                )
            )
            existing.add((origin.id, destination.id))
            added += 1
    return added
