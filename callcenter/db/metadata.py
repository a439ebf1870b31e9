"""Every table, imported in one place so Alembic and ``create_all`` see the whole store."""

from __future__ import annotations

from sqlmodel import SQLModel

from callcenter.agent_history.models import AgentStateEvent
from callcenter.attachments.models import Attachment
from callcenter.auth.models import StaffSession
from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.citizens.models import Citizen
from callcenter.cluster.models import AgentPresenceRow, ClusterEvent, LoginFailure, RateBucket
from callcenter.followups.models import ContactAttempt, Task
from callcenter.intake.models import DuplicateSuggestion
from callcenter.messages.models import CitizenMessage
from callcenter.messenger.models import BotChat, BotMessage, BotRequest, BotUpdate
from callcenter.outbox.models import OutboxItem
from callcenter.reference.models import Category, Department, Neighbourhood
from callcenter.reports.models import ReportJob, RequestDay, RollupMark
from callcenter.sms.models import SmsMessage
from callcenter.users.models import User
from crm_bridge.replay_guard import InboundEvent

metadata = SQLModel.metadata

__all__ = [
    "AgentPresenceRow",
    "AgentStateEvent",
    "Attachment",
    "BotChat",
    "BotMessage",
    "BotRequest",
    "BotUpdate",
    "Call",
    "Category",
    "Citizen",
    "CitizenMessage",
    "CitizenRequest",
    "ClusterEvent",
    "ContactAttempt",
    "Department",
    "DuplicateSuggestion",
    "InboundEvent",
    "LoginFailure",
    "Neighbourhood",
    "OutboxItem",
    "RateBucket",
    "ReportJob",
    "RequestDay",
    "RequestEvent",
    "RollupMark",
    "SmsMessage",
    "StaffSession",
    "Task",
    "User",
    "metadata",
]
