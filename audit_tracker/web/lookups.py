"""Records of the signed-in user's school, loaded and authorised in one place.

Another school's campaign or milestone does not exist for the user: a 404, never a 403 that
would confirm it is there.
"""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..campaigns import service as campaigns
from ..extensions import db
from ..models import Campaign, Milestone, ProgressNote, Site
from ..notes import service as notes


def get_campaign_or_404(campaign_id: int) -> Campaign:
    """The campaign if it belongs to the user's school; 404 otherwise, never another school's."""
    campaign = campaigns.get_campaign(db.session, current_user.school_id, campaign_id)
    if campaign is None:
        abort(404, _("Campagne introuvable."))
    return campaign


def get_milestone_or_404(campaign: Campaign, milestone_id: int) -> Milestone:
    """One of the campaign's milestones, or 404."""
    milestone = next((m for m in campaign.milestones if m.id == milestone_id), None)
    if milestone is None:
        abort(404)
    return milestone


def school_sites() -> list[Site]:
    """The sites of the user's school, by name: the choices of every site field."""
    return list(db.session.scalars(
        select(Site).where(Site.school_id == current_user.school_id).order_by(Site.name)))


def school_site(code: str) -> Site | None:
    """The site of the user's school with this code, or None."""
    return db.session.scalar(
        select(Site).where(Site.school_id == current_user.school_id, Site.code == code))


def get_note_or_404(campaign: Campaign, note_id: int) -> ProgressNote:
    """One of the campaign's monthly notes; a draft does not exist for those who only read the
    issued ones."""
    note = db.session.get(ProgressNote, note_id)
    if note is None or note.campaign_id != campaign.id or not notes.visible(current_user, note):
        abort(404, _("Note introuvable."))
    return note
