"""What API v1 reads and answers, one pydantic model each: the checks of ``declare.endpoint``
and the OpenAPI document both come from here. Field descriptions are the document's, in French.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from ..campaigns.service import Phase
from ..dossier.options import Edition
from ..indicators.importer import parse_month
from ..models import (
    ActionStatus,
    BuildStatus,
    CommissionDecision,
    Comparison,
    EvidenceKind,
    FindingKind,
    FindingStatus,
    MilestoneKind,
    NoteStatus,
    ReviewStatus,
)
from ..readiness.rules import State
from .fields import (
    Day,
    Flag,
    InputModel,
    Integer,
    IsoDate,
    IsoDateTime,
    JsonFlag,
    Missing,
    Note,
    Number,
    OneOf,
    OptionalInteger,
    OutputModel,
    PaperCustodian,
    PaperLocation,
    QueryModel,
    Text,
    Title,
    Upload,
    refuse,
)


class Error(OutputModel):
    """Every refusal: the status says which, the message says why, in French."""

    error: str


class Problems(OutputModel):
    """A refusal listing every problem found at once."""

    error: str
    errors: list[str]


SiteCode = Annotated[
    str | None, Field(description="Code du site ; absent ou null : toute l’école.")
]

# ---------------------------------------------------------------------- référentiels, campaigns


class CriteriaQuery(QueryModel):
    version: str | None = Field(None, description="Une version ; par défaut la dernière.")


class Framework(OutputModel):
    id: int
    code: str
    name: str
    version: str
    provisional: bool
    latest: bool
    cycle_years: int | None
    criteria_count: int
    indispensable_count: int


class Criterion(OutputModel):
    id: int
    code: str
    title: str
    section: str
    section_title: str
    indispensable: bool
    applies_to: list[str]
    finding_types: list[str] | None


class FrameworkRef(OutputModel):
    id: int
    code: str
    version: str
    provisional: bool


class Milestone(OutputModel):
    id: int
    kind: Annotated[str, OneOf(MilestoneKind)]
    title: str
    start: IsoDate
    end: IsoDate
    place: str
    phase: Annotated[str, OneOf(Phase)]
    days_left: int = Field(description="Jours avant le début ; négatif une fois passée.")
    assumed: bool = Field(description="Date supposée (règle non publique), à déplacer dès "
                          "qu’elle est connue.")
    report_notified_on: IsoDate | None = Field(
        description="Audit : jour où le rapport a été notifié, d’où partent les délais des "
        "constats ; null tant qu’il ne l’est pas.")
    decision: Annotated[str, OneOf(CommissionDecision)] | None = Field(
        description="Décision de labellisation : null sauf sur l’échéance « decision ».")
    conditions: str = Field(description="Conditions ou préconisations de la décision.")


class Campaign(OutputModel):
    id: int
    name: str
    school: str
    frameworks: list[FrameworkRef]
    certifying: bool = Field(description="Les actions de la campagne mènent à une "
                             "certification (sinon certains critères ne s’appliquent pas).")
    validity_end: IsoDate | None = Field(
        description="Dernier jour de validité du label en cours ; null sans label accordé.")


class CampaignDetail(Campaign):
    milestones: list[Milestone]


# ------------------------------------------------------------------------------------ evidence


class EvidenceQuery(QueryModel):
    q: str = Field(
        "",
        description="Mots cherchés dans le titre, la description, le lien, le lieu, le nom et "
        "le texte du fichier (tous requis).",
    )
    site: str | None = Field(
        None,
        description="Code d’un site, ou `ecole` pour les preuves de toute l’école seulement.",
    )
    status: Annotated[ReviewStatus, OneOf(ReviewStatus)] | None = None
    criterion_id: Integer | None = None
    expiring_before: Day = Field(
        None, description="Preuves dont la validité finit avant ce jour (exclu)."
    )


class EvidenceMetadata(InputModel):
    """What a client says about a new proof, whichever way its file comes (a multipart form, or
    the query string of a file sent as the request body)."""

    title: str = Field("", description="Par défaut, le nom du fichier sans extension.")
    description: str = ""
    site: SiteCode = None
    valid_until: Day = None
    covers_from: Day = None
    covers_to: Day = None
    personal_data: Flag = False
    retention_until: Day = Field(None, description="Obligatoire avec des données personnelles.")
    criterion_id: Integer | None = Field(
        None, description="Lier la nouvelle preuve à ce critère dans le même pas."
    )
    note: Note = Field("", description="Ce que la preuve montre pour `criterion_id`.")
    link_if_duplicate: Flag = Field(
        False,
        description="Si le fichier est déjà dans la bibliothèque : lier la preuve existante à "
        "`criterion_id` (réponse 200) au lieu de refuser (409).",
    )


class NewEvidence(EvidenceMetadata):
    file: Upload | None = Field(None, description="Un document.")
    url: str | None = Field(None, description="Un lien http(s).")
    paper_location: PaperLocation | None = Field(
        None, description="Où la preuve papier peut être consultée."
    )
    paper_custodian: PaperCustodian | None = None


class FileName(InputModel):
    """The query string of a file sent as the request body: its name (an unknown parameter is
    refused, as an unknown form field is)."""

    filename: Annotated[
        str,
        Missing(_l("Indiquez le nom du fichier dans le paramètre « filename »."))
    ] = Field(description="Le nom du fichier, extension comprise (`rapport.pdf`) : elle doit "
              "correspondre au contenu.")


class NewEvidenceFile(EvidenceMetadata, FileName):
    """The query string of a document sent as the request body: its name, then the same
    metadata as the multipart form, checked by the same rules."""


class NewVersionForm(InputModel):
    file: Annotated[Upload, Missing(_l("Joignez le fichier dans le champ « file »."))]


class LinkRequest(InputModel):
    criterion_id: Integer
    note: Note = ""


class ReviewRequest(InputModel):
    decision: Annotated[
        ReviewStatus,
        OneOf(ReviewStatus, "decision", ("validee", "refusee")),
        Missing(_l("« decision » doit valoir « validee » ou « refusee »."))
    ]
    reason: Text = Field("", description="Obligatoire pour un refus.")


class EvidenceVersion(OutputModel):
    number: int
    sha256: str
    size: int
    media_type: str
    filename: str
    flags: list[Annotated[str, WithJsonSchema({"type": "string",
                                               "enum": ["chiffre", "illisible"]})]]
    uploaded_at: IsoDateTime
    download_url: str | None = Field(
        description="null quand le lecteur ne peut pas télécharger (données personnelles)."
    )


class NewVersion(EvidenceVersion):
    evidence_status: Annotated[str, OneOf(ReviewStatus)]


class EvidenceLink(OutputModel):
    id: int
    criterion_id: int
    code: str
    framework: str
    framework_version: str
    note: str
    # The claim: "confirme", or "a_confirmer" (added to an already validated proof, waiting
    # for the director or the quality lead), or "refuse".
    status: Literal["confirme", "a_confirmer", "refuse"]


class Evidence(OutputModel):
    id: int
    title: str
    description: str
    kind: Annotated[str, OneOf(EvidenceKind)]
    status: Annotated[str, OneOf(ReviewStatus)]
    site: str | None = Field(description="null : toute l’école")
    valid_until: IsoDate | None
    covers_from: IsoDate | None
    covers_to: IsoDate | None
    personal_data: bool
    retention_until: IsoDate | None
    url: str | None
    paper_location: str | None
    paper_custodian: str | None
    links: list[EvidenceLink]
    versions: list[EvidenceVersion]


# ------------------------------------------------------------------------ findings and actions


CampaignFilter = Annotated[
    Integer | None,
    Field(description="Une campagne de l’école ; absent : toutes les campagnes de l’école."),
]


class FindingQuery(QueryModel):
    campaign_id: CampaignFilter = None
    event_id: Integer | None = None
    open: Flag = Field(False, description="Constats ouverts ou en traitement seulement.")


class CriterionRef(BaseModel):
    """A criterion named by its id, or by its code (and its framework's, for an action)."""

    model_config = ConfigDict(extra="ignore")

    id: Integer | None = None
    framework: str | None = None
    code: str | None = None


def _finding_criterion(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    return {"code": value} if isinstance(value, str) else {"id": value}


def _action_criterion(value: Any) -> Any:
    if isinstance(value, str):
        raise refuse("criterion_code", value=value[:40])
    return value if isinstance(value, dict) else {"id": value}


_BY_ID = {"type": "integer", "description": "Identifiant du critère"}
FindingCriterion = Annotated[
    CriterionRef,
    BeforeValidator(_finding_criterion),
    WithJsonSchema({"oneOf": [
        {"type": "string", "description": "Code d’un critère du référentiel du constat"},
        _BY_ID,
        {"type": "object", "properties": {"id": {"type": "integer"},
                                          "code": {"type": "string"}}},
    ]}),
]
ActionCriterion = Annotated[
    CriterionRef,
    BeforeValidator(_action_criterion),
    WithJsonSchema({"oneOf": [
        _BY_ID,
        {"type": "object", "properties": {"id": {"type": "integer"},
                                          "framework": {"type": "string"},
                                          "code": {"type": "string"}}},
    ]}),
]


class FindingFields(InputModel):
    """What a new finding says and a PATCH may change; a key absent from a PATCH keeps its
    value."""

    framework: str | None = Field(None, description="Code d’un référentiel de la campagne.")
    type: str | None = Field(None, description="Code d’un type de l’échelle du référentiel.")
    title: Title = ""
    description: Text = ""
    root_cause: Text = ""
    response: Text = Field("", description="La réponse de l’école, reprise dans le dossier.")
    criteria: list[FindingCriterion] | None = Field(
        None, description="Codes de critères du référentiel (ou leurs identifiants)."
    )
    site: SiteCode = None
    due_on: Day = Field(None, description="Remplace l’échéance calculée.")
    override_reason: Text = Field(
        "", description="Obligatoire quand `due_on` remplace l’échéance calculée."
    )
    slot_id: OptionalInteger = Field(
        None, description="Créneau du programme de l’audit où le constat a été relevé ; il doit "
        "appartenir au programme de l’étape du constat. null : aucun."
    )


class NewFinding(FindingFields):
    event_id: Annotated[
        Integer,
        Missing(_l("Indiquez l’étape de la campagne qui a relevé le constat (« event_id »).")),
        Field(description="Étape (visite, audit, commission)."),
    ]


class FindingPatch(FindingFields):
    event_id: Integer | None = Field(None, description="Ne change pas : l’étape du constat.")
    status: Annotated[FindingStatus, OneOf(FindingStatus)] | None = None
    lock_version: Annotated[
        Integer,
        Missing(_l("Indiquez « lock_version » : la version du constat que vous avez lue (GET), "
                   "pour ne pas écraser une modification faite entre-temps.")),
        Field(description="La version lue (GET) ; obligatoire. Périmée : 409."),
    ]


class FindingEvent(OutputModel):
    id: int
    kind: Annotated[str, OneOf(MilestoneKind)]
    title: str


class FindingType(OutputModel):
    code: str
    label: str
    kind: Annotated[str, OneOf(FindingKind)]


class CriterionCode(OutputModel):
    id: int
    code: str


class FindingSlot(OutputModel):
    """The programme slot a finding was seen at, as the register shows it."""

    id: int
    day: IsoDate
    starts_at: str = Field(description="HH:MM, heure de Paris")
    ends_at: str | None
    site: str | None = Field(description="Code du site ; null pour toute l’école.")
    topic: str
    summary: str = Field(description="« 24/04/2018 09:00–10:30 · Gouvernance »")


class Finding(OutputModel):
    id: int
    reference: str = Field(description="« Pré-audit n°3 »")
    number: int
    campaign_id: int
    event: FindingEvent
    framework: str
    type: FindingType
    title: str
    description: str
    root_cause: str
    response: str
    criteria: list[CriterionCode]
    site: str | None
    status: Annotated[str, OneOf(FindingStatus)]
    due_on: IsoDate | None
    verify_by: IsoDate | None
    rule: str = Field(description="La règle d’échéance, en clair.")
    override_reason: str
    actions: list[int]
    slot_id: int | None
    slot: FindingSlot | None
    lock_version: int


def _statuses(value: Any) -> Any:
    """``a_faire,en_cours`` (and a repeated ``status``) as a list of statuses."""
    given = value if isinstance(value, list) else [value]
    return [part.strip() for item in given for part in str(item).split(",")]


class ActionQuery(QueryModel):
    campaign_id: CampaignFilter = None
    mine: Flag = Field(False, description="Les actions dont je suis responsable.")
    late: Flag = Field(False, description="Les actions non réalisées dont l’échéance est passée.")
    site: str | None = Field(None, description="Code d’un site.")
    finding_id: Integer | None = None
    criterion_id: Integer | None = Field(
        None, description="Actions liées au critère, directement ou par un constat."
    )
    status: Annotated[
        list[Annotated[ActionStatus, OneOf(ActionStatus)]] | None,
        BeforeValidator(_statuses),
        WithJsonSchema({"type": "string",
                        "description": "Un statut, ou plusieurs séparés par des virgules."}),
    ] = None


class ActionFields(InputModel):
    """What a new action says and a PATCH may change; a key absent from a PATCH keeps its
    value."""

    title: Title = ""
    description: Text = ""
    owner: str | None = Field(
        None, description="E-mail d’un compte de l’école (pas l’auditeur)."
    )
    site: SiteCode = None
    due_on: Day = Field(None, description="Pas avant l’étape qui a relevé ses constats.")
    findings: list[Integer] | None = None
    criteria: list[ActionCriterion] | None = None
    closing_evidence_id: OptionalInteger = None


class NewAction(ActionFields):
    campaign_id: Annotated[
        Integer, Missing(_l("Indiquez la campagne de l’action (« campaign_id »)."))
    ]


class ActionPatch(ActionFields):
    status: Annotated[ActionStatus, OneOf(ActionStatus)] | None = None
    note: Text = Field("", description="Note de vérification d’efficacité.")
    lock_version: Annotated[
        Integer,
        Missing(_l("Indiquez « lock_version » : la version de l’action que vous avez lue (GET), "
                   "pour ne pas écraser une modification faite entre-temps.")),
        Field(description="La version lue (GET) ; obligatoire. Périmée : 409."),
    ]


class Person(OutputModel):
    email: str
    name: str


class ActionCriterionOut(OutputModel):
    id: int
    framework: str
    code: str


class Action(OutputModel):
    id: int
    campaign_id: int
    title: str
    description: str
    owner: Person | None
    site: str | None
    due_on: IsoDate
    status: Annotated[str, OneOf(ActionStatus)]
    days_late: int
    done_on: IsoDate | None
    findings: list[int]
    criteria: list[ActionCriterionOut]
    closing_evidence_id: int | None
    verified_by: Person | None
    verified_at: IsoDateTime | None
    verification_note: str
    lock_version: int


# ------------------------------------------------------------------------------------- dossier

_IDS = "Vide : tous ceux de la campagne"


class DossierRequest(InputModel):
    """The options of a dossier build; every one may be left out."""

    edition: Annotated[Edition, OneOf(Edition, "edition")] = Field(
        Edition.INTERNAL,
        description="« ecole » : le dossier que l’école envoie (argumentaire et pièces "
        "validées) ; « interne » : la revue interne (états, motifs, preuves à valider)",
    )

    framework_ids: list[Integer] | None = Field(None, description=_IDS)
    section_ids: list[Integer] | None = Field(None, description="Vide : toutes les sections")
    site_ids: list[Integer] | None = Field(
        None,
        description="Vide : tous les sites (les preuves de toute l’école y sont toujours)",
    )
    with_annexes: JsonFlag = True
    include_personal_data: JsonFlag = False
    with_zip: JsonFlag = True
    as_of: Day = Field(None, description="Date de référence ; par défaut le prochain audit")


class DossierOptions(OutputModel):
    """The options a build was asked for, as recorded."""

    edition: Annotated[str, OneOf(Edition)] = "interne"
    framework_ids: list[int] = []
    section_ids: list[int] = []
    site_ids: list[int] = []
    with_annexes: bool = True
    include_personal_data: bool = False
    with_zip: bool = True
    as_of: IsoDate | None = None


class DossierStarted(OutputModel):
    job_id: int
    status: Annotated[str, OneOf(BuildStatus)]


class DossierJob(OutputModel):
    job_id: int
    campaign_id: int
    status: Annotated[str, OneOf(BuildStatus)]
    status_label: str
    progress: int = Field(ge=0, le=100)
    step: str
    error: str | None
    options: DossierOptions
    created_at: IsoDateTime
    started_at: IsoDateTime | None
    finished_at: IsoDateTime | None
    created_by: str | None
    size: int | None
    sha256: str | None
    zip_size: int | None
    zip_sha256: str | None
    page_count: int | None
    piece_count: int | None
    url: str
    pdf_url: str | None
    zip_url: str | None


# ----------------------------------------------------------------------------------- readiness


class ReadinessQuery(QueryModel):
    as_of: Day = Field(None, description="Date de référence (par défaut : le prochain audit).")
    site: str | None = Field(
        None,
        description="Code d’un site : seuls ses enregistrements et ceux de toute l’école "
        "comptent, ses exemptions s’appliquent.",
    )


class ReadinessSummary(OutputModel):
    counts: dict[str, int] = Field(description="Nombre de critères par état.")
    applicable: int
    share_demonstrable: Number | None = Field(description="Démontrables / applicables (0–1).")


class ReasonOut(OutputModel):
    code: str
    text: str


class CriterionReadiness(OutputModel):
    id: int
    framework: str
    section: str
    code: str
    title: str
    indispensable: bool
    state: Annotated[str, OneOf(State)]
    state_label: str
    reasons: list[ReasonOut]
    evidence_ids: list[int]


class Readiness(OutputModel):
    campaign_id: int
    as_of: IsoDate
    reference: Annotated[
        str | None,
        WithJsonSchema({"type": ["string", "null"],
                        "enum": ["audit", "commission", "pre_audit", None]}),
    ] = Field(description="L’échéance dont la date de référence est le jour.")
    site: str | None
    summary: ReadinessSummary
    criteria: list[CriterionReadiness]


# ---------------------------------------------------------------------------------- indicators


def _month(value: Any) -> date:
    month = parse_month(value)
    if month is None:
        raise refuse("month", value=str(value)[:40])
    return month


# Documented as AAAA-MM; the reader also takes what the import does (02/2018, 2018-02-01).
Month = Annotated[date, BeforeValidator(_month), WithJsonSchema({"type": "string"})]


class IndicatorsQuery(QueryModel):
    start: Month | None = Field(None, description="Premier mois inclus (AAAA-MM).")
    end: Month | None = Field(None, description="Dernier mois inclus (AAAA-MM).")
    site: list[str] | None = Field(
        None, description="Code d’un site (répétable) ; par défaut tous les sites."
    )


_INDICATOR_CODES = WithJsonSchema({
    "type": "string",
    "enum": ["qpv_rate", "without_diploma_rate", "positive_exit_rate", "monthly_entries"],
})


class IndicatorTarget(OutputModel):
    id: int
    indicator: Annotated[str, _INDICATOR_CODES]
    site: str | None = Field(description="null : toute l’école.")
    comparison: Annotated[str, OneOf(Comparison)]
    value: Number = Field(description="Fraction pour un taux (0.4).")
    source: str


class TargetAndGap(IndicatorTarget):
    gap: Number | None
    met: bool | None


class IndicatorCounts(OutputModel):
    """`host_companies` compte les entreprises accueillant un stagiaire pour la première fois ;
    `months` le nombre de mois additionnés."""

    entries: int
    from_qpv: int
    without_diploma: int
    host_companies: int
    exits: int
    exits_training: int
    exits_employment: int
    exits_work_study: int
    positive_exits: int
    months: int


class IndicatorValues(OutputModel):
    counts: IndicatorCounts
    rates: dict[str, Number | None]
    targets: dict[str, TargetAndGap | None]


class PeriodIndicators(IndicatorValues):
    period: str


class SiteIndicators(IndicatorValues):
    code: str
    name: str
    opened_on: IsoDate | None
    periods: list[PeriodIndicators]


class IndicatorDefinition(OutputModel):
    code: Annotated[str, _INDICATOR_CODES]
    label: str
    kind: Annotated[str, WithJsonSchema({"type": "string", "enum": ["rate", "monthly"]})]


class Indicators(OutputModel):
    school: str
    start: str | None
    end: str | None
    periods: list[str]
    indicators: list[IndicatorDefinition]
    targets: list[IndicatorTarget]
    sites: list[SiteIndicators]
    total: IndicatorValues


# ------------------------------------------------------------------------------ progress notes


class NoteRequest(InputModel):
    """The month whose note to prepare (the open draft is returned if there is one)."""

    month: Month = Field(description="Mois de la note (AAAA-MM) ; un mois futur est refusé.")
    as_of: Day = Field(None, description="Date de situation dans le mois ; par défaut son "
                       "dernier jour (aujourd’hui pour le mois en cours).")


class ProgressNote(OutputModel):
    """A monthly note: its free parts, and its computed parts (live for a draft, frozen once
    issued, with the SHA-256 of the whole note)."""

    id: int
    campaign_id: int
    month: str = Field(description="AAAA-MM")
    as_of: IsoDate
    status: Annotated[str, OneOf(NoteStatus)]
    status_label: str
    texts: dict[str, str]
    cofunding: str
    computed: dict[str, Any]
    replaces_id: int | None
    created_by: str | None
    issued_by: str | None
    issued_at: IsoDateTime | None
    sha256: str | None
    evidence_id: int | None
    lock_version: int
    pdf_url: str | None
    docx_url: str | None
