"""The pure engine: session state, alarms and the observation log.

Public names only; the modules behind them are private to the engine.
"""
from .alarms import ALARM_CODES, PHYSIOLOGICAL, PRIORITY_RANK, TECHNICAL, ActiveAlarm, Transition, reconcile
from .checklist import Checklist, ChecklistAnswer, ChecklistItem
from .config import Config, ConfigError, ProtocolSpec, Setting, load_config
from .late import refold
from .session import Due, SessionEngine
from .status import session_status
from .vitals import BP, Value, rate_source

__all__ = [
    "ALARM_CODES", "PHYSIOLOGICAL", "PRIORITY_RANK", "TECHNICAL", "ActiveAlarm", "BP", "Checklist", "ChecklistAnswer",
    "ChecklistItem", "Config", "ConfigError", "Due",
    "ProtocolSpec", "SessionEngine", "Setting", "Transition", "Value", "load_config", "rate_source", "reconcile",
    "refold", "session_status",
]
