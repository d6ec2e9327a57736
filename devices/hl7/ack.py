"""ACK messages (original mode): AA after commit, AE with an ERR segment, AR."""
from __future__ import annotations

import itertools
import time

_counter = itertools.count(1)


def escape(text: str) -> str:
    """HL7 escaping of free text for a field (default encoding characters)."""
    out = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
    out = out.replace("&", "\\T\\").replace("~", "\\R\\")
    return out.replace("\r", " ").replace("\n", " ")


def build_ack(code: str, their_control_id: str, *, application: str, facility: str, their_application: str = "",
              their_facility: str = "", reason: str = "", error_code: int = 207, where: str = "",
              now: float | None = None) -> str:
    """`MSH ... ACK^R01^ACK`, `MSA|code|id`, and for AE/AR an ERR saying why."""
    stamp = time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(time.time() if now is None else now))
    control = f"ACK{int(time.time() * 1000) % 10**10:010d}{next(_counter) % 1000:03d}"
    segments = [
        f"MSH|^~\\&|{escape(application)}|{escape(facility)}|{escape(their_application)}|{escape(their_facility)}"
        f"|{stamp}||ACK^R01^ACK|{control}|P|2.6",
        f"MSA|{code}|{escape(their_control_id)}" + (f"|{escape(reason)}" if reason and code != "AA" else ""),
    ]
    if code != "AA":
        severity = "E"
        segments.append(f"ERR||{where}|{error_code}^{_ERROR_TEXT.get(error_code, 'Application error')}^HL70357"
                        f"|{severity}||||{escape(reason)}")
    return "\r".join(segments) + "\r"


_ERROR_TEXT = {
    101: "Required field missing", 102: "Data type error", 103: "Table value not found",
    200: "Unsupported message type", 203: "Unsupported version id", 204: "Unknown key identifier",
    207: "Application internal error",
}
