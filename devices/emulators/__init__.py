"""Emulators of the devices, for tests and demos: each speaks its protocol over a real
pseudo-terminal or TCP socket to the real adapter (see play.py for what drives them)."""
from .hl7_sender import HL7Feed, HL7Sender
from .line import Line, PtyLine, TcpLine
from .nonin import NoninEmulator
from .suntech import SunTechEmulator

__all__ = ["HL7Feed", "HL7Sender", "Line", "NoninEmulator", "PtyLine", "SunTechEmulator", "TcpLine"]
