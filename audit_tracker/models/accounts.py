"""Users, their role and their API tokens."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..clock import local_today
from .base import Model, TimestampMixin, enum_column, utcnow
from .school import School, Site


class Role(enum.StrEnum):
    ADMIN = "admin"
    DIRECTOR = "direction"
    QUALITY_LEAD = "qualite"
    SITE_MANAGER = "site"
    AUDITOR = "auditeur"
    NETWORK_REFERENT = "referent"

    @property
    def label(self) -> str:
        """What users read, translated; the stored value stays put when the wording changes."""
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Administrateur"),
    Role.DIRECTOR: _l("Direction"),
    Role.QUALITY_LEAD: _l("Responsable qualité"),
    Role.SITE_MANAGER: _l("Responsable de site"),
    Role.AUDITOR: _l("Auditeur (lecture seule)"),
    Role.NETWORK_REFERENT: _l("Référent réseau"),
}


class User(UserMixin, TimestampMixin, Model):
    __table_args__ = (
        # A site manager without a site would see nothing and could be given everything by mistake.
        CheckConstraint("role <> 'site' OR site_id IS NOT NULL", name="site_role_has_site"),
    )

    # A login is journaled as such; its timestamp is not a change of the account.
    __journal_ignore__ = frozenset({"last_login_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = enum_column(Role)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Secret part of the user's read-only iCalendar feed URL; a new one revokes the old URL.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Part of every session's and remember-me cookie's id: a new one ends them all (logout,
    # password change). Checked on each request by ``accounts.security.load_session_user``.
    session_token: Mapped[str | None] = mapped_column(String(64))
    # An invited auditor reads one campaign, from its first day to its last (both included);
    # the day after, ``is_active`` is False: login and every session are refused.
    access_campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    access_starts_on: Mapped[date | None] = mapped_column(Date)
    access_ends_on: Mapped[date | None] = mapped_column(Date)
    # A link to set one's password (an invitation, a reset): only its SHA-256 is kept.
    password_link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_link_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The TOTP secret (base32) once the person confirmed a first code; None: password only.
    totp_secret: Mapped[str | None] = mapped_column(String(64))

    school: Mapped[School] = relationship()
    site: Mapped[Site | None] = relationship()

    @property
    def is_active(self) -> bool:
        """The one switch that shuts an account out: login, every permission check, its calendar."""
        return self.active and self.access_open_on(local_today())

    @property
    def is_invited_auditor(self) -> bool:
        """An auditor invited for one campaign: sees only what the school sends of it."""
        return self.role is Role.AUDITOR and self.access_campaign_id is not None

    def access_open_on(self, day: date) -> bool:
        """Whether an invited auditor's window holds ``day``; other accounts have no window."""
        if self.access_starts_on is not None and day < self.access_starts_on:
            return False
        return self.access_ends_on is None or day <= self.access_ends_on

    def issue_password_link(self, expires_at: datetime) -> str:
        """A new one-use link token to set the password (the clear token is never stored)."""
        clear = secrets.token_urlsafe(32)
        self.password_link_hash = hashlib.sha256(clear.encode()).hexdigest()
        self.password_link_expires_at = expires_at
        return clear

    def set_password(self, password: str) -> None:
        """Only a salted hash is kept, never the password itself."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()  # a new password logs out every browser that knew the old one

    def end_sessions(self) -> None:
        """Every session and remember-me cookie of this account stops working."""
        self.session_token = secrets.token_urlsafe(32)

    def get_id(self) -> str:
        """The cookies' id: account, session token and login time, so logout and age end it."""
        # Each login gives a new cookie, which the server refuses once the token changed or
        # the remember-me duration has passed (accounts.security.load_session_user).
        return f"{self.id}:{self.session_token or ''}:{int(utcnow().timestamp())}"

    def check_password(self, password: str) -> bool:
        """False, never an error, for an account whose password was never set."""
        return bool(self.password_hash and check_password_hash(self.password_hash, password))

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(TimestampMixin, Model):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    @staticmethod
    def hash(token: str) -> str:
        """The one way to turn a clear token into what is stored, for issuing and checking alike."""
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, label: str = "") -> tuple[ApiToken, str]:
        """A new token row and the clear token, which is never stored."""
        clear = "at_" + secrets.token_urlsafe(32)
        return cls(user=user, token_hash=cls.hash(clear), label=label), clear


class LoginThrottle(Model):
    """Failed logins counted per account or address (``accounts.throttle``): the brake."""

    # The refused logins are journaled as events; the counters themselves are not changes.
    __journal_skip__ = True

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # compte:… / adresse:…
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
