"""What a dossier build is asked for: frameworks, sections, sites, annexes, personal data, date."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..domain.errors import DomainError


class Edition(enum.StrEnum):
    """Who the dossier is for. The school's edition is what it sends: its argument and its
    validated pièces per criterion, nothing of its internal states (« preuve manquante », « à
    valider »), no draft anywhere. The internal review is the working document: every state,
    every reason, the proofs awaiting validation."""

    SCHOOL = "ecole"
    INTERNAL = "interne"

    @property
    def label(self) -> str:
        return str(EDITION_LABELS[self])


EDITION_LABELS = {
    Edition.SCHOOL: _l("Dossier de l’école"),
    Edition.INTERNAL: _l("Revue interne"),
}


class DossierError(RuntimeError):
    """A build that cannot be done (no font, a file that breaks the merge), in French."""


class DossierOptionsError(DomainError):
    """Options refused; ``messages`` lists every problem, in French."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = list(messages)


def _ids(data: dict, key: str, label: str, problems: list[str]) -> tuple[int, ...]:
    value = data.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        problems.append(_("« %(field)s » doit être une liste d’identifiants.", field=label))
        return ()
    ids = []
    for item in value:
        # bool is an int in Python: « true » is not an identifier.
        if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
            problems.append(_("« %(field)s » : « %(value)s » n’est pas un identifiant.",
                              field=label, value=item))
        elif item not in ids:
            ids.append(item)
    return tuple(ids)


def _flag(data: dict, key: str, default: bool, problems: list[str]) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        problems.append(_("« %(field)s » doit valoir true ou false.", field=key))
        return default
    return value


@dataclass(frozen=True)
class DossierOptions:
    framework_ids: tuple[int, ...] = ()  # empty = all of the campaign's frameworks
    section_ids: tuple[int, ...] = ()  # empty = all sections
    site_ids: tuple[int, ...] = ()  # empty = every site (school-wide proofs are always in)
    with_annexes: bool = True
    include_personal_data: bool = False
    as_of: date | None = None  # reference date; None = default_reference_date
    edition: Edition = Edition.INTERNAL

    def to_json(self) -> dict:
        return {
            "edition": self.edition.value,
            "framework_ids": list(self.framework_ids),
            "section_ids": list(self.section_ids),
            "site_ids": list(self.site_ids),
            "with_annexes": self.with_annexes,
            "include_personal_data": self.include_personal_data,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }

    @classmethod
    def from_json(cls, data: object) -> DossierOptions:
        """Options from JSON (the API's body, a stored build); every problem is reported."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise DossierOptionsError([_("Les options doivent être un objet JSON.")])
        problems: list[str] = []
        known = {"framework_ids", "section_ids", "site_ids", "with_annexes",
                 "include_personal_data", "as_of", "edition"}
        for key in sorted(set(data) - known, key=str):
            problems.append(_("Option inconnue : « %(name)s ».", name=key))
        as_of = None
        raw_date = data.get("as_of")
        if raw_date not in (None, ""):
            if not isinstance(raw_date, str):
                problems.append(_("« as_of » doit être une date AAAA-MM-JJ."))
            else:
                try:
                    as_of = date.fromisoformat(raw_date)
                except ValueError:
                    problems.append(_("« %(value)s » n’est pas une date AAAA-MM-JJ.",
                                      value=raw_date))
        edition = Edition.INTERNAL
        raw_edition = data.get("edition")
        if raw_edition not in (None, ""):
            try:
                edition = Edition(raw_edition)
            except ValueError:
                problems.append(_("Édition inconnue : « %(value)s » ; valeurs possibles : "
                                  "%(values)s.", value=str(raw_edition)[:40],
                                  values=", ".join(e.value for e in Edition)))
        options = cls(
            edition=edition,
            framework_ids=_ids(data, "framework_ids", "framework_ids", problems),
            section_ids=_ids(data, "section_ids", "section_ids", problems),
            site_ids=_ids(data, "site_ids", "site_ids", problems),
            with_annexes=_flag(data, "with_annexes", True, problems),
            include_personal_data=_flag(data, "include_personal_data", False, problems),
            as_of=as_of,
        )
        if problems:
            raise DossierOptionsError(problems)
        return options
