"""Alarm forwarding to an alarm manager (IHE PCD-04 over MLLP): see forwarder.py and docs/alarms.md."""
from .coverage_alarms import CoverageAlarms
from .forwarder import Forwarder, SystemAlarm
from .lifecycle import Step, step_of

__all__ = ["CoverageAlarms", "Forwarder", "Step", "SystemAlarm", "step_of"]
