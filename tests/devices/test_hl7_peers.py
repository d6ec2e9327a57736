"""The HL7 listener admits only configured peers (loopback unless the clinic names its monitors)."""
from __future__ import annotations

import socket

import pytest

from devices.config import load_device_config
from devices.errors import DeviceConfigError
from devices.hl7 import mllp
from devices.hl7.listener import HL7Listener, ListenerSettings, Placement
from devices.supervisor import Supervisor
from tests.waits import DEADLINE_S, wait_until

from test_hl7_parse import EXAMPLE  # noqa: E402  (the PCD-01 example message, docs/devices.md)


def _listener(clinic, stop, peers: tuple[str, ...]) -> HL7Listener:
    adapter = HL7Listener(ListenerSettings(port=0, placement=Placement(locations={"CHAIR3": "Chair 3"}),
                                           ack_timeout_s=DEADLINE_S, peers=peers))
    Supervisor(adapter, clinic.ingest).start(stop)
    assert adapter.ready.wait(DEADLINE_S)
    return adapter


def _exchange(address) -> bytes:
    with socket.create_connection(address, timeout=DEADLINE_S) as conn:
        conn.sendall(mllp.frame(EXAMPLE))
        try:
            return conn.recv(65536)
        except ConnectionResetError:
            return b""


def test_an_unlisted_peer_is_refused_before_it_can_send(clinic, stop):
    listener = _listener(clinic, stop, peers=("10.9.9.0/24",))
    assert _exchange(listener.address) == b""  # closed without an answer
    wait_until(lambda: listener.stats.refused_connections >= 1, "the refusal counted")
    assert listener.stats.refused_connections == 1 and listener.stats.messages == 0


def test_a_listed_peer_gets_its_ack(clinic, stop):
    listener = _listener(clinic, stop, peers=("127.0.0.0/8",))
    assert b"MSA|" in _exchange(listener.address)


def test_peer_settings(tmp_path):
    assert ListenerSettings().admits("127.0.0.1") and not ListenerSettings().admits("192.168.1.20")
    assert ListenerSettings(peers=("10.1.2.0/24",)).admits("::ffff:10.1.2.7")
    bad = tmp_path / "devices.toml"
    bad.write_text('[hl7]\nport = 2575\npeers = ["not-an-address"]\n')
    with pytest.raises(DeviceConfigError, match="hl7.peers"):
        load_device_config(bad)
