"""The connection to the alarm manager: send one MLLP frame, wait for its ACK (original mode).

One TCP connection is kept open between messages and reopened after any failure; the caller (the forwarder)
decides about retries. An answer whose MSA-2 is not our MSH-10 is not an answer to this message: it is skipped
(a late ACK of an earlier try) until the right one or the timeout comes.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import hl7

from .mllp import MllpReader, frame

ACCEPTED = ("AA", "CA")  # original and enhanced mode "accept"


class LinkError(OSError):
    """No answer: the manager cannot be reached, closed the connection, or did not answer in time."""


@dataclass(frozen=True, slots=True)
class Ack:
    code: str  # MSA-1: AA, AE, AR (CA, CE, CR)
    control_id: str  # MSA-2: the MSH-10 it answers
    text: str = ""  # MSA-3 / ERR-8: why, for AE/AR

    @property
    def accepted(self) -> bool:
        return self.code in ACCEPTED


@dataclass(frozen=True, slots=True)
class LinkSettings:
    host: str
    port: int
    connect_timeout_s: float = 5.0
    ack_timeout_s: float = 10.0


class AlarmLink:
    def __init__(self, settings: LinkSettings) -> None:
        self.settings = settings
        self._sock: socket.socket | None = None
        self._reader = MllpReader()

    def send(self, message: str, control_id: str) -> Ack:
        """Send `message` and return the manager's ACK of `control_id`; LinkError when there is none."""
        try:
            sock = self._connected()
            sock.sendall(frame(message))
            return self._answer(sock, control_id)
        except OSError as exc:
            self.close()
            raise LinkError(f"{self.settings.host}:{self.settings.port}: {exc.__class__.__name__}: {exc}") from exc

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock, self._reader = None, MllpReader()

    def _connected(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.create_connection((self.settings.host, self.settings.port),
                                                  timeout=self.settings.connect_timeout_s)
            self._reader = MllpReader()
        return self._sock

    def _answer(self, sock: socket.socket, control_id: str) -> Ack:
        deadline = time.monotonic() + self.settings.ack_timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no ACK within {self.settings.ack_timeout_s:g} s")
            sock.settimeout(left)
            data = sock.recv(65536)
            if not data:
                raise ConnectionResetError("the alarm manager closed the connection")
            for whole in self._reader.feed(data):
                ack = read_ack(whole.data)
                if ack is not None and ack.control_id == control_id:
                    return ack


def read_ack(data: bytes) -> Ack | None:
    """MSA-1, MSA-2 and the reason of an ACK message; None for anything that is not one."""
    try:
        message = hl7.parse(data.decode("utf-8", errors="replace").replace("\r\n", "\r").replace("\n", "\r"))
        msa = message.segment("MSA")
    except (KeyError, IndexError, ValueError, hl7.ParseException):
        return None
    text = str(msa(3)) if len(msa) > 3 else ""
    try:
        text = text or str(message.segment("ERR")(8))
    except (KeyError, IndexError):
        pass
    return Ack(code=str(msa(1)), control_id=str(msa(2)), text=text)
