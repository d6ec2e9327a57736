"""A monitor's own alarm, end to end (issue 24): a public Mindray ORU^R40 sample sent with python-hl7's MLLP client
to the real server's HL7 listener shows on the chair's tile in headless Chromium, in the monitor's words and grading,
apart from our alarm line."""
from __future__ import annotations

import time
from pathlib import Path

from hl7.client import MLLPClient

from dashboard.store import Store
from devices.hl7.mllp import MllpReader

from .conftest import free_port

CORPUS = Path(__file__).parents[1] / "devices" / "interop"
LEAD_OFF = (CORPUS / "mindray_r40_lead_off_no_msh10.hl7").read_bytes().replace(b"\n", b"\r")
TILE_JS = """
return Array.from(document.querySelectorAll('.board > .tile')).map(t => ({
  chair: t.querySelector('.tile-chair').textContent,
  device: t.querySelector('.tile-device-alarm').textContent,
  ours: t.querySelector('.tile-alarm').textContent }));
"""


def test_a_mindray_oru_r40_shows_the_monitors_alarm_on_the_chairs_tile(start_server, screen, tmp_path):
    db, hl7_port = tmp_path / "clinic.db", free_port()
    store = Store.open(db)
    store.create_session(chair="Chair 6", patient_label="P-06", protocol="esketamine-84", started_at=time.time())
    store.close()
    devices = tmp_path / "devices.toml"
    devices.write_text(f'[hl7]\nport = {hl7_port}\n\n[hl7.devices]\n"00A037000000" = "Chair 6"\n', encoding="utf-8")
    server = start_server("serve", "--no-simulator", "--database", str(db), "--devices", str(devices))
    screen.sign_in(server.url, "nurse")
    screen.until(lambda: screen.js(TILE_JS), "the chair's tile")
    with MLLPClient("127.0.0.1", hl7_port) as client:
        client.socket.settimeout(30)
        reply, reader, acks = client.send_message(LEAD_OFF), MllpReader(), []
        while not (acks := reader.feed(reply)):
            reply = client.socket.recv(4096)
    assert b"MSA|AA|" in acks[0].data
    [tile] = screen.until(lambda: [t for t in screen.js(TILE_JS) if t["device"]], "the monitor's alarm on the tile")
    assert tile == {"chair": "Chair 6", "device": "Monitor says: lead off (low)", "ours": "No active alarm"}
    assert not [entry for entry in screen.logs() if entry["level"] in ("SEVERE", "WARNING")]
