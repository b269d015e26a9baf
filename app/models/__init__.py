"""SQLAlchemy 2 models; importing this package registers every table on `Base.metadata`."""

from .archive import PACKAGE_STATES, ArchivePackage
from .audit import AUDIT_OBJECTS, AuditEntry
from .base import Base
from .calendar import CalendarDay, CalendarRevision, CalendarYear
from .case import CASE_CHANNELS, CASE_STATUSES, FINAL_STATUSES, Case, CaseCounter, CaseEvent, Incident
from .clock import (
    CLOCK_KINDS,
    LEVELS,
    PROCEDURES,
    Alarm,
    CaseClock,
    ClockExtension,
    ClockSuspension,
    SupervisionOrder,
)
from .delivery import COLLECTOR_RELATIONS, DELIVERY_METHODS, LicenceDelivery
from .item import CASE_KINDS, GUIDE_FIELDS, LIMIT_UNITS, TYPE_CODES, Item
from .item_revision import REVISION_STATES, SNAPSHOT_FIELDS, ItemRevision, ItemTerms, case_terms
from .licence import LICENCE_STATES, DepartmentKey, Licence
from .material import NOTICE_KINDS, CaseFile, Comment, Draft, Notice
from .message_template import TEMPLATE_LOCALES, MessagePreference, MessageTemplate
from .notification import CHANNELS, NOTIFICATION_KINDS, OUTBOX_STATES, Notification, OutboxMessage
from .org import ROLES, Department, Group, User, memberships
from .performance import PerformanceSettings
from .process import ProcessDefinition
from .ratelimit import RateLimitHit as RateLimitHit
from .rating import (
    RATING_CHANNELS,
    RATING_KINDS,
    REQUEST_STATES,
    Rating,
    RatingRequest,
    RatingSettings,
    ServiceWindow,
    WindowClerk,
    WindowVisit,
)
from .rectification import CLASSIFICATIONS, RECTIFICATION_STATES, Rectification
from .reuse import ReusedLicence
from .statistics import (
    MEASURES,
    STAGES,
    STAT_CHANNELS,
    StatDaily,
    StatDuration,
    StatOfficerDaily,
    StatWatermark,
)
from .task import EngineTimer, HumanTask, TaskCandidate

__all__ = [
    "ArchivePackage", "PACKAGE_STATES",
    "CLASSIFICATIONS", "RECTIFICATION_STATES", "Rectification", "PerformanceSettings",
    "MEASURES", "STAGES", "STAT_CHANNELS", "StatDaily", "StatDuration", "StatOfficerDaily", "StatWatermark",
    "AUDIT_OBJECTS", "AuditEntry", "DepartmentKey", "LICENCE_STATES", "Licence",
    "COLLECTOR_RELATIONS", "DELIVERY_METHODS", "LicenceDelivery",
    "Alarm", "CLOCK_KINDS", "CalendarDay", "CalendarRevision", "CalendarYear", "CaseClock", "ClockExtension",
    "ClockSuspension", "LEVELS", "PROCEDURES", "SupervisionOrder",
    "MessagePreference", "MessageTemplate", "TEMPLATE_LOCALES",
    "CHANNELS", "NOTIFICATION_KINDS", "Notification", "OUTBOX_STATES", "OutboxMessage",
    "Base", "CASE_KINDS", "CaseFile", "Comment", "Draft", "NOTICE_KINDS", "Notice", "CASE_CHANNELS", "CASE_STATUSES", "Case", "CaseCounter", "CaseEvent", "Department",
    "EngineTimer", "FINAL_STATUSES", "GUIDE_FIELDS", "Group", "HumanTask", "Incident", "Item",
    "ItemRevision", "ItemTerms", "REVISION_STATES", "SNAPSHOT_FIELDS", "case_terms",
    "RATING_CHANNELS", "RATING_KINDS", "REQUEST_STATES", "Rating", "RatingRequest", "RatingSettings",
    "ServiceWindow", "WindowClerk", "WindowVisit",
    "LIMIT_UNITS", "ProcessDefinition", "ROLES", "ReusedLicence", "TYPE_CODES", "TaskCandidate", "User", "memberships",
]
