"""factory_boy factories bound to the application's session."""

from __future__ import annotations

from datetime import date

import factory
from factory.alchemy import SQLAlchemyModelFactory

from audit_tracker.extensions import db
from audit_tracker.models import Campaign, Milestone, MilestoneKind, Role, School, Site, User

PASSWORD = "motdepasse-de-test"


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 - the app's scoped session
        sqlalchemy_session_persistence = "flush"


class SchoolFactory(Base):
    class Meta:
        model = School

    name = factory.Sequence(lambda n: f"École de la 2e Chance n°{n}")
    short_name = factory.Sequence(lambda n: f"E2C {n}")


class SiteFactory(Base):
    class Meta:
        model = Site

    school = factory.SubFactory(SchoolFactory)
    code = factory.Sequence(lambda n: f"site-{n}")
    name = factory.Sequence(lambda n: f"Site {n}")
    opened_on = date(2017, 3, 13)


class UserFactory(Base):
    class Meta:
        model = User

    school = factory.SubFactory(SchoolFactory)
    email = factory.Sequence(lambda n: f"user{n}@ecole.example")
    full_name = factory.Sequence(lambda n: f"Utilisateur {n}")
    role = Role.QUALITY_LEAD
    site = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role is Role.SITE_MANAGER),
        yes_declaration=factory.SubFactory(SiteFactory, school=factory.SelfAttribute("..school")),
        no_declaration=None,
    )
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)


class CampaignFactory(Base):
    class Meta:
        model = Campaign

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"Labellisation {2018 + n}")


class MilestoneFactory(Base):
    class Meta:
        model = Milestone

    campaign = factory.SubFactory(CampaignFactory)
    kind = MilestoneKind.INITIAL_AUDIT
    title = "Audit AFNOR"
    starts_on = date(2018, 4, 24)
    ends_on = date(2018, 4, 26)
