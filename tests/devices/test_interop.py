"""Real monitors' messages (tests/devices/interop/, sources in its README) sent with python-hl7's own MLLP client over
a real socket to the real listener, into a real Ingest on a temporary SQLite store: the ACK, the stored vitals and the
values counted as "no value", per file."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hl7.client import MLLPClient

from dashboard.store import device_data
from devices.errors import HL7Error
from devices.hl7 import SOURCES, HL7Listener, ListenerSettings, OruMessage
from devices.hl7.device_alarms import from_detail
from devices.hl7.placement import Place
from devices.hl7.mllp import MllpReader
from devices.readings import Reading, SessionEvent
from devices.supervisor import Supervisor

CORPUS = Path(__file__).parent / "interop"
CHAIR = "Bed 1"


@dataclass(frozen=True)
class IdentityPlacement:
    """Places a message on CHAIR when one of its identities is `key`: PV1-3.1, the whole PV1-3, the sender's EUI-64,
    an OBX-18 device id or MSH-4 (a stand-in for `[hl7.locations]`/`[hl7.devices]`, which map one of these)."""

    key: str

    def place(self, message: OruMessage) -> Place:
        identities = (message.location, message.point_of_care, message.sender_eui64, *message.device_ids,
                      message.sending_facility)
        if self.key in identities:
            return Place(CHAIR, self.key, f"hl7 {self.key}", 60.0)
        raise HL7Error(f"no identity of this message is {self.key}: {identities}")


NIBP, SPO2, ECG, PULSE = "monitor nibp", "monitor spo2", "monitor ecg", "monitor pulse"

# file -> (identity that places it, ACK code, stored readings (source, sbp, dbp, map, hr, spo2, provenance),
#          "no value" counts by reason)
EXPECTED: dict[str, tuple[str, str, list[tuple], dict[str, int]]] = {
    "ihe_pcd01_dec_example.hl7": ("CHAIR3", "AA", [
        (NIBP, 128, 82, 97, 72, None, "device"), (SPO2, None, None, None, None, 97, "device")], {}),
    "ihe_pcd01_training_mode.hl7": ("CHAIR3", "AA", [
        (NIBP, 128, 82, 97, 72, None, "demo"), (SPO2, None, None, None, None, 97, "demo")], {}),
    "ihe_pcd_null_flavours.hl7": ("CHAIR3", "AA", [(SPO2, None, None, None, None, 96, "device")], {"flag": 3}),
    "ge_b40_example1.hl7": ("SURGERY", "AA", [
        (ECG, None, None, None, 80, None, "device"), (PULSE, None, None, None, 80, None, "device"),
        (SPO2, None, None, None, None, 100, "device")], {}),
    "ge_style_code_conflicts.hl7": ("ICU", "AA", [(SPO2, None, None, None, 76, 98, "device")], {"code-conflict": 1}),
    "philips_efficia_lan_oru.hl7": ("^^LOCATION34", "AA", [
        (NIBP, 122, 85, 98, None, None, "device"), (SPO2, None, None, None, 85, 98, "device"),
        (ECG, None, None, None, 80, None, "device")], {}),
    "philips_efficia_no_values.hl7": ("^^LOCATION34", "AA", [], {"empty": 3, "status": 2}),
    "raw_philips_efficia_latin1_superscript.hl7": ("^^LOCATION34", "AA", [
        (NIBP, 122, 85, 98, None, None, "device"), (SPO2, None, None, None, 85, 98, "device"),
        (ECG, None, None, None, 80, None, "device")], {}),
    "welch_allyn_wacs_st_values.hl7": ("ROOM12", "AA", [
        (NIBP, 120, 80, 93, None, None, "device"), (SPO2, None, None, None, None, 97, "device"),
        (PULSE, None, None, None, 80, None, "device")], {}),
    "welch_allyn_wacs_invalid_spo2.hl7": ("ROOM12", "AA", [(PULSE, None, None, None, 78, None, "device")],
                                          {"flag": 1}),
    "linkwatch_continua_bp.hl7": ("5C313EFFFE020E12", "AA", [(NIBP, 125, 80, None, 66, None, "device")], {}),
    "mindray_vs900_demo_mode.hl7": ("INTER", "AA", [
        (NIBP, 166, 100, 122, None, None, "demo"), (SPO2, None, None, None, 80, 100, "demo")], {}),
    "mindray_xh80x_sentinels.hl7": ("00A037009B000000", "AA", [], {"sentinel": 3}),
    "mindray_egateway_obx18_first_row.hl7": ("000F14049B507238", "AA", [
        (SPO2, None, None, None, 65, 98, "device"), (ECG, None, None, None, 66, None, "device")], {}),
    "raw_mindray_egateway_crlf_blank_lines_cyrillic.hl7": ("ICU", "AA", [
        (SPO2, None, None, None, 65, 98, "device"), (ECG, None, None, None, 66, None, "device")], {}),
    "mindray_waveform_na_array.hl7": ("MINDRAY", "AA", [], {"array": 2}),
    "comen_nc5_spot_check.hl7": ("KC575235977G", "AA", [
        (NIBP, 120, 80, 90, None, None, "device"), (SPO2, None, None, None, None, 98, "device"),
        (PULSE, None, None, None, 60, None, "device")], {}),
    "comen_nc5_mdc_variants.hl7": ("KC575235977G", "AA", [
        (NIBP, 128, 76, 93, None, None, "device"), (SPO2, None, None, None, 88, 97, "device"),
        (ECG, None, None, None, 89, None, "device")], {"status": 1}),
    "comen_nc5_arterial_code_conflict.hl7": ("KC575235977G", "AA", [], {"code-conflict": 2}),
    # issue 24: vendors and gateways the first corpus did not have (sources in the README)
    "nihon_kohden_vital_nibp_bed001.hl7": ("^^BED-001^10.0.100.98:1", "AA", [
        (SPO2, None, None, None, 77, 99, "device"), (NIBP, 133, 77, 95, None, None, "device")], {}),
    "nihon_kohden_inicu_bed001_spo2.hl7": ("^^BED-001^192.168.1.2:1", "AA", [
        (SPO2, None, None, None, 94, 100, "device")], {}),
    "philips_information_center_v22_doc1.hl7": ("^^Doc1&5&1", "AA", [
        (SPO2, None, None, None, None, 95, "device"), (ECG, None, None, None, 60, None, "device")], {}),
    "mindray_vs8_gateway_spot_check.hl7": ("^^ICU&01&0&0&0", "AA", [
        (NIBP, 118, 74, None, None, None, "device"), (SPO2, None, None, None, 72, 97, "device")], {}),
    "comen_nc5_adt_a08_bed24.hl7": ("^^&24", "AR", [], {}),
    "philips_efficia_alarm_in_oru_r01.hl7": ("^^LOCATION34", "AA", [], {}),
    "masimo_patient_safetynet_r40_spo2_low.hl7": ("PSN", "AA", [], {}),
    "draeger_acm_watchdog_r40.hl7": ("TAM", "AA", [], {}),
    "draeger_acm_alarm_template_r40.hl7": ("TAM", "AA", [], {}),
    "ge_mural_r40_advisory.hl7": ("ICU", "AA", [], {}),
    "mindray_r40_lead_off_no_msh10.hl7": ("00A037000000", "AA", [], {}),
    "dialysis_machine_r40_swapped_code_name.hl7": ("FAC", "AA", [], {}),
}
NEW_IN_ISSUE_24 = [name for name in EXPECTED if name.split("_")[0] in (
    "nihon", "masimo", "draeger", "dialysis") or name in (
    "philips_information_center_v22_doc1.hl7", "mindray_vs8_gateway_spot_check.hl7", "comen_nc5_adt_a08_bed24.hl7",
    "philips_efficia_alarm_in_oru_r01.hl7", "ge_mural_r40_advisory.hl7", "mindray_r40_lead_off_no_msh10.hl7")]
# the monitor's own alarms stored as device_alarm events on the chair: (its text, its priority). A test/debug
# system's alarms (MSH-11 D: both Dräger reference messages) and a watchdog keep-alive are no patient's alarm.
ALARMS: dict[str, list[tuple[str, str]]] = {
    "philips_efficia_alarm_in_oru_r01.hl7": [("SpO2 High, SpO2=98 %", "medium")],
    "masimo_patient_safetynet_r40_spo2_low.hl7": [("SPO2 LOW", "unknown")],
    "ge_mural_r40_advisory.hl7": [("HYPERTENSION-Alert Recheck BP", "medium")],
    "mindray_r40_lead_off_no_msh10.hl7": [("lead off", "low")],
    "dialysis_machine_r40_swapped_code_name.hl7": [("MDC_PRESS_BLD_ART^150020^MDC", "unknown")],
}
REFUSED = {"comen_nc5_adt_a08_bed24.hl7": 1}  # refused frames kept (a misrouted ADT feed: AR, kept for review)
NO_CONTROL_ID = {"mindray_r40_lead_off_no_msh10.hl7"}  # MSH-10 empty: the ACK's MSA-2 is empty, the ACK well formed
UNKNOWN = {  # codes we do not read, counted per sender with their text (shown on /admin/devices)
    "nihon_kohden_vital_nibp_bed001.hl7": {"072007^VITAL rPR(spo2)": 1},
    "nihon_kohden_inicu_bed001_spo2.hl7": {"072007^VITAL rPR(spo2)": 1},
    "philips_information_center_v22_doc1.hl7": {"0002-5000^Resp": 1, "0002-4a15^ABPs": 1, "0002-4a16^ABPd": 1,
                                                "0002-4a17^ABPm": 1},
    "mindray_vs8_gateway_spot_check.hl7": {"150344^MDC_TEMP": 1},
}


def test_every_corpus_file_has_its_expectation_and_a_source():
    files = sorted(path.name for path in CORPUS.glob("*.hl7"))
    assert files == sorted(EXPECTED)
    readme = (CORPUS / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in files)
    vendors = {name.split("_")[0] for name in files} - {"raw", "ihe"}
    assert len(vendors) >= 6  # ge, philips, welch, linkwatch, mindray, comen


def test_issue_24_added_twelve_messages_from_five_new_vendors_or_gateways():
    """>= 12 messages from >= 5 vendors or gateways the first corpus did not have, each with its source."""
    new_sources = {"nihon", "masimo", "draeger", "philips_information_center", "mindray_vs8_gateway", "ge_mural"}
    assert len(NEW_IN_ISSUE_24) >= 12
    assert len({source for source in new_sources if any(name.startswith(source) for name in NEW_IN_ISSUE_24)}) >= 5
    readme = (CORPUS / "README.md").read_text()
    for name in NEW_IN_ISSUE_24:
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}`"))
        assert "http" in row or "index file" in row, f"{name}: no public source beside it"


def message_bytes(name: str) -> bytes:
    data = (CORPUS / name).read_bytes()
    return data if name.startswith("raw_") else data.replace(b"\n", b"\r")


def send_with_python_hl7(address: tuple[str, int], data: bytes) -> str:
    with MLLPClient(*address) as client:
        client.socket.settimeout(30)
        reply = client.send_message(data)
        reader, frames = MllpReader(), []
        while not (frames := reader.feed(reply)):
            reply = client.socket.recv(4096)
            assert reply, "the listener closed without an ACK"
        return frames[0].data.decode()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_monitors_message_is_stored_as_expected(clinic, stop, name):
    key, ack_code, expected, discards = EXPECTED[name]
    sid = clinic.open(CHAIR)
    listener = HL7Listener(ListenerSettings(port=0, placement=IdentityPlacement(key), ack_timeout_s=10))
    Supervisor(listener, clinic.ingest).start(stop)
    assert listener.ready.wait(10)
    ack = send_with_python_hl7(listener.address, message_bytes(name))
    msa = next(s for s in ack.split("\r") if s.startswith("MSA|")).split("|")
    assert msa[1] == ack_code, ack
    if name in NO_CONTROL_ID:
        assert msa[1:3] == [ack_code, ""] and ack.startswith("MSH|^~\\&|"), ack
    else:
        assert msa[2] and msa[2] in message_bytes(name).decode("latin-1")  # its own MSH-10, echoed
    stored = [(r.source, r.sbp, r.dbp, r.map, r.hr, r.spo2, r.provenance)
              for r in clinic.store.session_items(sid) if isinstance(r, Reading)]
    kept_apart = [(r["source"], r["sbp"], r["dbp"], r["map"], r["hr"], r["spo2"], "demo") for r in reversed(
        device_data.waiting_rows(clinic.store.engine, clinic.store.site, chair=CHAIR)) if r["demo"]]
    assert sorted(stored, key=repr) == sorted([e for e in expected if e[-1] != "demo"], key=repr)
    assert sorted(kept_apart, key=repr) == sorted([e for e in expected if e[-1] == "demo"], key=repr)  # never
    # patient data: kept apart (docs/placement.md)
    counted = Counter()
    for (_, reason), count in listener.discarded_by_sender().items():
        counted[reason] += count
    assert dict(counted) == discards
    assert listener.stats.parser_errors == 0 and len(clinic.store.refused()) == REFUSED.get(name, 0)
    items = clinic.store.session_items(sid)
    alarms = [from_detail(e.detail) for e in items if isinstance(e, SessionEvent) and e.kind == "device_alarm"]
    assert [(a["text"], a["priority"]) for a in alarms] == ALARMS.get(name, [])
    assert all(r.device_id and r.device_id not in SOURCES for r in items if isinstance(r, Reading))  # never our label
    unknown = {code: n for t in device_data.sender_traffic(clinic.store.engine, clinic.store.site)
               for code, n in t.unknown.items()}
    if name in NEW_IN_ISSUE_24:  # (the first corpus's messages have their own: the raw rows its README names)
        assert unknown == UNKNOWN.get(name, {})
