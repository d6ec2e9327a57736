"""HL7 v2 ORU^R01 over MLLP: parsing (pure), framing (pure), composing, and the listener."""
from .ack import build_ack
from .assemble import SOURCE_ECG, SOURCE_NIBP, SOURCE_PULSE, SOURCE_SPO2, SOURCES
from .listener import HL7Listener, ListenerSettings, Placement
from .mllp import MllpReader, frame
from .oru import Sender, compose
from .parse import Notice, OruMessage, parse_oru, parse_timestamp
from .values import DISCARD_REASONS, Discarded

__all__ = ["DISCARD_REASONS", "Discarded", "HL7Listener", "ListenerSettings", "MllpReader", "Notice", "OruMessage",
           "Placement", "SOURCES", "SOURCE_ECG", "SOURCE_NIBP", "SOURCE_PULSE", "SOURCE_SPO2", "Sender",
           "build_ack", "compose", "frame", "parse_oru", "parse_timestamp"]
