"""The pure engine: session state, alarms and the observation log.

Public names only; the modules behind them are private to the engine.
"""
from .alarms import ALARM_CODES, PHYSIOLOGICAL, PRIORITY_RANK, TECHNICAL, ActiveAlarm, Transition, reconcile
from .config import Config, ConfigError, ProtocolSpec, Setting, load_config
from .session import BP, Due, SessionEngine, Value
from .status import session_status

__all__ = [
    "ALARM_CODES", "PHYSIOLOGICAL", "PRIORITY_RANK", "TECHNICAL", "ActiveAlarm", "BP", "Config",
    "ConfigError", "Due", "ProtocolSpec", "SessionEngine", "Setting", "Transition", "Value", "load_config", "reconcile",
    "session_status",
]
