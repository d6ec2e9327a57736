"""Issue 24 over real sockets into a real Ingest and store: bed-level identity (two beds of one model stay two
devices), the monitors' own ORU^R40 alarms on the chair's tile, bounded refused frames and kept readings, the ACK
echoing the sender's bytes, HL7 2.1, a batch's older reading on its own time."""
from __future__ import annotations

import socket
import time
from pathlib import Path

from dashboard.cli.check import run_check
from dashboard.reports.exports.feed_file import export_feed
from dashboard.store import device_data, retention
from dashboard.ui import device_admin
from dashboard.ui.board import tile_values
from devices.hl7 import compose, frame, parse_oru
from devices.hl7.mllp import MllpReader
from devices.hl7.placement import Placement, location_parts
from devices.readings import Reading, SessionEvent

from test_hl7_listener import msa  # noqa: E402
from test_hl7_parse import EXAMPLE, UTC  # noqa: E402
from test_hl7_placement import numbered  # noqa: E402

CORPUS = Path(__file__).parent / "interop"


def corpus(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8").replace("\n", "\r")


NK = corpus("nihon_kohden_vital_nibp_bed001.hl7")  # MSH-3 NIHON KOHDEN, PV1-3 ^^BED-001^10.0.100.98:1
LEAD_OFF = corpus("mindray_r40_lead_off_no_msh10.hl7")  # Mindray ORU^R40: lead off, priority PL, no MSH-10


def test_every_vendor_layout_of_pv1_3_can_be_named_whole_or_by_a_part():
    assert location_parts("^^BED-001^10.0.100.98:1")[:2] == ["^^BED-001^10.0.100.98:1", "BED-001"]
    assert "ICU&01" in location_parts("^^ICU&01&0&0&0")  # Mindray: department & bed, zeros dropped
    assert {"Doc1&5&1", "Doc1"} <= set(location_parts("^^Doc1&5&1"))  # Philips
    assert "24" in location_parts("^^&24")  # Comen
    assert location_parts("CHAIR3^^^CLINIC_A") == ["CHAIR3^^^CLINIC_A", "CHAIR3", "CLINIC_A"]
    placement = Placement(locations={"BED-001": "Chair 1", "ICU&02": "Chair 2", "24": "Chair 4"})
    assert placement.place(parse_oru(NK.encode(), UTC)).chair == "Chair 1"
    vs8 = corpus("mindray_vs8_gateway_spot_check.hl7").replace("ICU&01&0&0&0", "ICU&02&0&0&0")
    assert placement.place(parse_oru(vs8.encode(), UTC)).chair == "Chair 2"
    assert Placement().place(parse_oru(NK.encode(), UTC)).chair is None  # an unmapped bed invents no chair


def test_two_beds_of_one_model_behind_one_gateway_with_unmapped_patients_stay_two_devices(start_site, wait_for):
    site = start_site()  # nothing mapped: no location, patient or device names a chair
    bed2 = NK.replace("20260422000007", "20260422000008").replace("BED-001", "BED-002") \
        .replace("|133|", "|101|")
    assert msa(site.send(NK))[1] == "AA" and msa(site.send(bed2))[1] == "AA"
    rows = device_data.waiting_rows(site.store.engine, site.store.site)
    by_device = {(r["device_id"], r["sbp"]) for r in rows if r["sbp"] is not None}
    assert by_device == {("NIHON KOHDEN @ ^^BED-001^10.0.100.98:1", 133),
                         ("NIHON KOHDEN @ ^^BED-002^10.0.100.98:1", 101)}
    statuses = device_data.statuses(site.store.engine, site.store.site, since=0)
    assert sorted(s["device_id"] for s in statuses) == ["NIHON KOHDEN @ ^^BED-001^10.0.100.98:1",
                                                        "NIHON KOHDEN @ ^^BED-002^10.0.100.98:1"]
    # a nurse associating bed 1 with a chair brings bed 1's readings there, never bed 2's
    sid = site.open("Chair 1")
    device_data.associate(site.store.engine, site.store.site, "NIHON KOHDEN @ ^^BED-001^10.0.100.98:1", "Chair 1",
                          who="nurse1", at=time.time())
    wait_for(lambda: site.store.session(sid).status.get("bp"), timeout=10)
    systolics = {r.sbp for r in site.store.session_items(sid) if isinstance(r, Reading) and r.sbp is not None}
    assert systolics == {133}


def test_a_mindray_oru_r40_over_a_socket_shows_the_monitors_alarm_on_the_chair(start_site, wait_for):
    site = start_site(Placement(devices={"00A037000000": "Chair 6"}))  # its EUI-64 (MSH-3.2) names the chair
    sid = site.open("Chair 6")
    with socket.create_connection(site.listener.address, timeout=10) as conn:
        conn.sendall(frame(LEAD_OFF))
        reader, acks = MllpReader(), []
        while not acks:
            acks = reader.feed(conn.recv(65536))
    ack = acks[0].data.decode()
    assert ack.startswith("MSH|^~\\&|DASH|") and msa(ack)[1:3] == ["AA", ""]  # no MSH-10: MSA-2 empty, well formed
    wait_for(lambda: (site.store.session(sid).status or {}).get("device_alarms"), timeout=10)
    row = site.store.session(sid)
    tile = tile_values(row, time.time())
    assert tile["device_alarm"] == "Monitor says: lead off (low)"  # its words and its grading, marked as its own
    assert tile["alarm"] == "No active alarm" and site.store.alarms_of(sid) == []  # never one of ours
    [kept] = [e for e in site.store.session_items(sid) if isinstance(e, SessionEvent) and e.kind == "device_alarm"]
    assert kept.device_time == parse_oru(LEAD_OFF.encode(), UTC).alarms[0].time  # kept with the monitor's time
    wait_for(lambda: any(t.alarms == 1 for t in device_data.sender_traffic(site.store.engine, site.store.site)),
             timeout=10)  # counted for the admin
    ended = LEAD_OFF.replace("|start", "|end").replace("20260124124738+0800", "20260124124800+0800")
    assert msa(site.send(ended))[1] == "AA"
    wait_for(lambda: not site.store.session(sid).status.get("device_alarms"), timeout=10)  # the monitor ended it


def test_twenty_200_kb_refused_frames_against_a_2_mb_cap_leave_at_most_2_mb_and_valid_orus_aa(start_site, wait_for):
    site = start_site(Placement(locations={"CHAIR3": "Chair 3"}))
    site.ingest.keep_within(2 * 2**20, 30 * 86400, 30 * 86400)  # what [hl7] refused_keep_mb = 2 gives
    for number in range(20):
        adt = f"MSH|^~\\&|ADT|HOSP|||20260101000000||ADT^A01|ADT{number}|P|2.5\rNTE|1||{number:02d}{'x' * 199_998}\r"
        assert msa(site.send(adt))[1] == "AR"
    use = retention.storage_use(site.store.engine, site.store.site)
    assert use.refused_bytes <= 2 * 2**20 and use.refused_frames >= 9
    assert use.refused_pruned == 20 - use.refused_frames
    for number in range(1, 6):
        assert msa(site.send(numbered(EXAMPLE, number)))[1] == "AA"
    text = str(device_admin.layout(site.store))
    assert f"{use.refused_pruned:,} older ones dropped" in text


def test_readings_kept_outside_sessions_are_pruned_after_their_retention(start_site):
    site = start_site()
    assert msa(site.send(NK))[1] == "AA"
    rows = device_data.waiting_rows(site.store.engine, site.store.site)
    newest = max(r["received_time"] for r in rows)
    bounds = retention.Bounds(device_s=30 * 86400)
    assert retention.prune_device_readings(site.store.engine, site.store.site, bounds, newest + 29 * 86400) == 0
    assert retention.prune_device_readings(site.store.engine, site.store.site, bounds, newest + 31 * 86400) == 2
    use = retention.storage_use(site.store.engine, site.store.site)
    assert (use.device_rows, use.device_pruned) == (0, 2)


def test_msa_2_echoes_the_senders_latin1_bytes_and_hl7_2_1_is_read(start_site):
    site = start_site(Placement(locations={"CHAIR3": "Chair 3"}))
    raw = EXAMPLE.replace("|2.6|", "|2.1|").encode("latin-1").replace(b"MSG000123", b"MSG\xe9123")
    with socket.create_connection(site.listener.address, timeout=10) as conn:
        conn.sendall(frame(raw))
        reader, acks = MllpReader(), []
        while not acks:
            acks = reader.feed(conn.recv(65536))
    assert b"MSA|AA|MSG\xe9123\r" in acks[0].data


def test_two_cuff_cycles_5_min_apart_in_one_message_land_5_min_apart_with_checks_alarm_history(start_site, wait_for,
                                                                                                   tmp_path):
    """A monitor catching up after a reconnect: an older high cycle and the current normal one in one message. Each
    lands where it was taken, and the stored alarm history is `check`'s for the same readings in order (the high
    one raised bp.predose_high 5 min ago and the normal one cleared it now), not both at "now"."""
    site = start_site(Placement(locations={"CHAIR3": "Chair 3"}))
    sid = site.store.create_session(chair="Chair 3", patient_label="P-1", protocol="esketamine-84",
                                    started_at=time.time() - 1200)  # its clock is at 20 min
    wait_for(lambda: site.ingest.live(sid) is not None and site.ingest.live(sid).engine.now > 1100, timeout=15)
    taken = time.time()
    older = Reading("nibp", sbp=176, dbp=104, map=128, hr=88, device_time=taken - 300)
    newer = Reading("nibp", sbp=124, dbp=80, map=95, hr=72, device_time=taken)
    assert msa(site.send(compose([older, newer], "BATCH1", now=taken)))[1] == "AA"
    bps = sorted((r.offset_s, r.sbp) for r in site.store.session_items(sid) if isinstance(r, Reading) and r.sbp)
    assert [sbp for _, sbp in bps] == [176, 124]
    assert abs((bps[1][0] - bps[0][0]) - 300) < 1.0  # 5 min apart on the session timeline
    assert 1100 - 300 < bps[0][0] < bps[1][0]
    export_feed(site.store, sid, tmp_path / "feed.csv")
    until = bps[1][0] + 0.01  # the feed writes session times to the millisecond
    expected = [(round(t.offset_s, 2), t.code, t.state) for t in run_check(tmp_path / "feed.csv").transitions
                if t.offset_s <= until]
    # to the millisecond first, as the feed has them: 902.0349 and the feed's 902.035 are the same time
    stored = [(round(round(a["offset_s"], 3), 2), a["code"], a["state"]) for a in site.store.alarms_of(sid)
              if a["offset_s"] <= until]
    assert ("bp.predose_high", "raised") in {(code, state) for _, code, state in stored}
    assert sorted(stored) == sorted(expected)
    raised = next(a for a in site.store.alarms_of(sid) if a["code"] == "bp.predose_high" and a["state"] == "raised")
    assert abs(raised["offset_s"] - bps[0][0]) < 0.01  # raised when the reading was taken...
    assert raised["stored_at"] - site.store.session(sid).started_at > raised["offset_s"] + 250  # ...learned later
