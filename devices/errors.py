"""The one exception tree of the device layer.

    DeviceError
    ├── ConnectionLost        the transport failed or went silent: the supervisor reconnects
    ├── FrameError            bytes that are not a frame of the protocol: counted and skipped
    ├── HL7Error              an HL7 message we cannot use: answered AE (or AR), kept whole
    └── DeviceConfigError     a bad device configuration file, naming the key (also a ValueError)
"""
from __future__ import annotations


class DeviceError(Exception):
    """Anything the device layer raises on purpose."""


class ConnectionLost(DeviceError):
    """The port or connection failed, closed, or stopped answering. `detail` is the short
    form the nurse sees on the device.disconnected alarm ("port lost", "no data for 3 s")."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


class FrameError(DeviceError):
    """A frame failed its checksum or its grammar."""


class HL7Error(DeviceError):
    """A message we cannot use. `ack` is the acknowledgement code (AE or AR); `where` is
    the ERR-2 location (e.g. "OBX^3^6") and `code` the HL7 table 0357 error code."""

    def __init__(self, reason: str, *, ack: str = "AE", code: int = 207, where: str = "") -> None:
        super().__init__(reason)
        self.reason, self.ack, self.code, self.where = reason, ack, code, where


class DeviceConfigError(DeviceError, ValueError):
    """The device configuration is wrong; the message names the key."""
