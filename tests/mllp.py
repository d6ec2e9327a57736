"""Reading an HL7 listener's answer in tests: the first ACK framed on a socket."""
from __future__ import annotations

import socket

from devices.hl7.mllp import MllpReader


def receive_ack(conn: socket.socket) -> str:
    reader = MllpReader()
    while True:
        data = conn.recv(65536)
        assert data, "listener closed without an ACK"
        acks = reader.feed(data)
        if acks:
            return acks[0].data.decode()
