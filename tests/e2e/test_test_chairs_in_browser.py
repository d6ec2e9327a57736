"""Test data never takes a real chair, in a real browser against the real server: a real monitor (the HL7 emulator,
over MLLP to the server's listener) feeds "Chair R9"; the tester's replay onto "Chair R9" is refused, saying which
device sent what, when, and which test chair is free; nothing is opened, and the nurse's board still shows the chair.
"""
from __future__ import annotations

from dashboard.store import Store
from devices.emulators.hl7_sender import HL7Sender
from devices.errors import ConnectionLost
from devices.hl7.oru import Sender
from devices.readings import Reading

from tests.waits import wait_until

from .browser import click, select, type_into, wait_for_text
from .conftest import free_port, login
from .screen import Screen

MONITOR = "0123456789ABCDEF"  # the emulated monitor's EUI-64 (MSH-3)


def _monitor_sends(port: int, sbp: float, dbp: float) -> None:
    """One real monitor reading for Chair R9, acknowledged AA (stored)."""
    monitor = HL7Sender("127.0.0.1", port, Sender(location="Chair R9", mrn="", application=f"VSM^{MONITOR}^EUI-64"))

    def acknowledged() -> str | None:
        try:
            return monitor.send([Reading("monitor", sbp=sbp, dbp=dbp, hr=72, spo2=97)])
        except ConnectionLost:  # the listener is still opening
            monitor.close()
            return None

    try:
        assert wait_until(acknowledged, "the server's HL7 listener to acknowledge the monitor") == "AA"
    finally:
        monitor.close()


def test_a_replay_is_refused_on_a_chair_a_real_monitor_feeds_and_the_nurse_still_sees_it(dash_br, start_server,
                                                                                           tmp_path):
    db, hl7_port = tmp_path / "clinic.db", free_port()
    server = start_server("serve", "--no-simulator", "--database", str(db), "--hl7-port", str(hl7_port))
    _monitor_sends(hl7_port, 131, 84)

    login(dash_br, server.url, "tester", then="/replay")
    select(dash_br, "#rp-scenario", label="feeds/esketamine-severe-peak")
    type_into(dash_br, "#rp-chair", "Chair R9")
    click(dash_br, "#rp-start")
    refusal = wait_for_text(dash_br, "#rp-message", "Chair R9 is a real chair")
    assert MONITOR in refusal and "BP 131/84" in refusal  # which device sent what...
    assert "ago)" in refusal and "Pick another chair" in refusal and '"Replay 1"' in refusal  # ...when; what to do
    store = Store.open(db)
    try:
        assert not store.open_sessions() and not store.replays()  # nothing was opened
    finally:
        store.close()

    nurse = Screen()
    try:
        nurse.sign_in(server.url, "nurse")
        nurse.until(lambda: "Chair R9" in nurse.js("return document.getElementById('board-waiting').textContent"),
                    "Chair R9 on the nurse's board")
        assert "131/84" in nurse.js("return document.getElementById('board-waiting').textContent")
    finally:
        nurse.quit()

    type_into(dash_br, "#rp-chair", "Replay 1")  # the test chair it offered is taken at once
    click(dash_br, "#rp-start")
    wait_for_text(dash_br, "#rp-message", "Replaying on session 1")
