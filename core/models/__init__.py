"""All ORM models; importing this package registers every table on `Base.metadata`."""
from core.models.base import Base, TenantScoped
from core.models.tenant import LOCALES, Tenant, TenantScheme
from core.models.org import PERSON_STATUSES, UNIT_KINDS, OrgUnit, Person
from core.models.account import ROLES, UNIT_ROLES, PlatformAdmin, RoleMembership, User
from core.models.audit import AuditLog
from core.models.cycle import (APPEAL_DECISIONS, APPEAL_STATES, CYCLE_STATES, SUBJECT_KINDS, Acknowledgement, Appeal,
                               Cycle, CycleResult, CycleSubject, Holiday, Notification, ScoreChange)

__all__ = [
    "APPEAL_DECISIONS", "APPEAL_STATES", "Acknowledgement", "Appeal", "Holiday", "Notification",
    "AuditLog", "CYCLE_STATES", "Cycle", "CycleResult", "CycleSubject", "SUBJECT_KINDS", "ScoreChange", "Base", "LOCALES", "OrgUnit", "PERSON_STATUSES", "Person", "PlatformAdmin",
    "ROLES", "RoleMembership", "Tenant", "TenantScheme", "TenantScoped", "UNIT_KINDS",
    "UNIT_ROLES", "User",
]
