"""HL7 v2 ORU^R01 over MLLP: parsing (pure), framing (pure), composing, and the listener."""
from .ack import build_ack
from .listener import HL7Listener, ListenerSettings, Placement
from .mllp import MllpReader, frame
from .oru import Sender, compose
from .parse import OruMessage, parse_oru, parse_timestamp

__all__ = ["HL7Listener", "ListenerSettings", "MllpReader", "OruMessage", "Placement", "Sender", "build_ack",
           "compose", "frame", "parse_oru", "parse_timestamp"]
