"""Readings outside a session in a real browser: a chair with no session shows as such on the board, demo data as
demo, and a nurse associates a device that sends with no chair from the Devices page (the real server, its HL7
listener on a real socket)."""
from __future__ import annotations

import socket
import time

from dashboard.store import Store, device_data
from devices.hl7 import frame
from devices.hl7.mllp import MllpReader

from .conftest import free_port, login

EUI = "0123456789ABCDEF"
MESSAGE = "\r".join([  # the docs/devices.md example, without the patient
    r"MSH|^~\&|VSM^0123456789ABCDEF^EUI-64|CLINIC_A|DASH|CLINIC_A|20250610091512+0000||ORU^R01^ORU_R01|{id}|{mode}|2.6"
    r"|||NE|AL||UNICODE UTF-8|||PCD_DEC_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
    "PV1||O|{location}",
    "OBR|1|{id}|{id}|182777000^monitoring of patient^SCT|||20250610091500+0000",
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||{device}^EUI-64",
    "OBX|2|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.1|{sbp}|266016^MDC_DIM_MMHG^MDC|||||R",
    "OBX|3|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.1.1.2|{dbp}|266016^MDC_DIM_MMHG^MDC|||||R",
    "OBX|4|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||R",
    "OBX|5|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.2.1.2|71|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
]) + "\r"


def send(port: int, number: int, location: str = "", sbp: int = 128, dbp: int = 82, device: str = EUI,
         mode: str = "P") -> str:
    """One message on its own connection (as a gateway does); MSA-1 of the ACK."""
    text = MESSAGE.format(id=f"M{number}", location=location, sbp=sbp, dbp=dbp, device=device, mode=mode)
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=10)
            break
        except OSError:
            assert time.monotonic() < deadline, "the server's HL7 listener did not open"
            time.sleep(0.3)
    with conn:
        conn.sendall(frame(text))
        reader = MllpReader()
        while not (acks := reader.feed(conn.recv(65536))):
            pass
    return next(s for s in acks[0].data.decode().split("\r") if s.startswith("MSA|")).split("|")[1]


def test_no_session_tile_demo_tile_and_associating_a_device(dash_br, start_server, tmp_path):
    db, hl7_port = tmp_path / "clinic.db", free_port()
    server = start_server("serve", "--no-simulator", "--database", str(db), "--hl7-port", str(hl7_port),
                          "--poll-ms", "500")
    assert send(hl7_port, 1, location="CHAIR9", sbp=131, dbp=84) == "AA"  # no session on that chair
    assert send(hl7_port, 2, location="CHAIR8", sbp=220, dbp=130, device="00A0B1FFFEC2D3E4", mode="T") == "AA"
    assert send(hl7_port, 3) == "AA"  # neither location nor patient: unassociated
    login(dash_br, server.url, "nurse")
    dash_br.wait_for_contains_text("#board-waiting", "no session · readings arriving", timeout=20)
    tile = dash_br.find_element(".tile.waiting.no-session")
    assert "CHAIR9" in tile.text and "131/84" in tile.text and "PR (SpO2) 71" in tile.text
    demo = dash_br.find_element(".tile.waiting.demo")
    assert "device in demo mode" in demo.text and "220/130" in demo.text
    assert dash_br.find_element(".tile.demo .tile-bp").value_of_css_property("color") != \
        tile.find_element("css selector", ".tile-bp").value_of_css_property("color")  # greyed
    dash_br.wait_for_contains_text("#unplaced-devices", "1 device sending with no chair", timeout=10)

    dash_br.find_element("#unplaced-devices a").click()
    dash_br.wait_for_contains_text("#assoc-unplaced", EUI, timeout=15)
    row = dash_br.driver.execute_script("return document.querySelector('#assoc-unplaced tbody tr').textContent")
    assert "BP 128/82" in row and "SpO2 97 %" in row and "s ago" in row  # its latest values, when it last sent
    dash_br.select_dcc_dropdown("#assoc-device", EUI)
    dash_br.find_element("#assoc-chair").send_keys("Chair 2")
    dash_br.find_element("#assoc-go").click()
    dash_br.wait_for_contains_text("#assoc-message", f"{EUI} is associated with Chair 2", timeout=10)
    dash_br.wait_for_contains_text("#assoc-associated", "Chair 2", timeout=10)
    assert "nurse1" in dash_br.driver.execute_script("return document.querySelector('#assoc-associated').textContent")

    assert send(hl7_port, 4, sbp=135, dbp=86) == "AA"  # its next reading goes to Chair 2
    store = Store.open(db)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rows = device_data.waiting_rows(store.engine, store.site, chair="Chair 2")
            if {row["sbp"] for row in rows} >= {128, 135}:
                break
            time.sleep(0.3)
        assert {row["sbp"] for row in rows if row["sbp"] is not None} == {128, 135}  # the earlier one went with it
    finally:
        store.close()
    dash_br.driver.get(server.url + "/")
    dash_br.wait_for_contains_text("#board-waiting", "Chair 2", timeout=20)
    dash_br.wait_for_contains_text("#board-waiting", "135/86", timeout=20)
