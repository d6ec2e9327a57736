"""Every clinical export checked by tools nobody here wrote, on four kinds of session: an esketamine session
with the REMS answers, an IV session, a replayed session and a session nobody assessed.

- FHIR: fhir.resources' R4B models (pydantic) and the SMART fhirclient's R4 (4.0.1) models in strict mode;
- HL7 v2: hl7apy in STRICT validation for v2.5 and v2.6 (PID-5 required, field lengths);
- PDF: pypdf's text of the report: the REMS block, and Started/Ended on the session's own clock (a replay's: when
  it was replayed and how long its feed runs);
- the feed and actions exports: `check --actions` reproduces every stored alarm transition of a session run
  through the real ingest as the web drives it, acknowledgements, re-alarms and an open session's timers included.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle as R4BBundle
from fhirclient.models.bundle import Bundle as R4Bundle
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from pypdf import PdfReader

from dashboard.cli.check import run_check
from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.service.replay import Replayer, drive, load_items, open_replay_session
from dashboard.reports.exports import export_session
from dashboard.reports.exports.pdf_report import session_pdf
from dashboard.reports.record import load_record
from dashboard.store import Store
from devices.feed import read_feed
from devices.readings import Reading, SessionEvent

from ..review_sessions import SAMPLES, SEVERE_FEED, recorded_session

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config()
KINDS = ("esketamine", "iv", "replayed", "unassessed")
TAKING = {"benzodiazepines": False, "non_benzodiazepine_hypnotics": True, "psychostimulants": False,
          "maois": False, "opioids": False}
LONG_CHAIR = "Recliner 12, east wing (window side)"  # 36 characters: more than PV1-3's point of care holds


def _replayed(store: Store) -> int:
    """The severe-peak feed replayed at full speed onto a feed-clocked session, ingest stepping alongside."""
    items = load_items(SEVERE_FEED)
    ingest = Ingest(store, CONFIG)
    sid = open_replay_session(store, items, "Chair 9", "Replay severe-peak", 60.0)
    drive(store, sid, Replayer(items, None), threading.Event())
    deadline = time.monotonic() + 120
    while store.pending_actions():
        ingest.step()
        assert time.monotonic() < deadline
    return sid


def _unassessed_items():
    feed = read_feed(SAMPLES / "scenarios" / "esketamine-56-quiet.csv")
    return [i for i in feed.items if not (isinstance(i, SessionEvent) and i.kind == "assessment")]


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    store = Store.open(tmp_path_factory.mktemp("validators") / "clinic.db")
    ids = {
        "esketamine": recorded_session(store, chair=LONG_CHAIR, patient="P-31", patient_identifier="MRN-0042",
                                       lot="LOT 24K17B", first_treatment=False, concomitant=TAKING),
        "iv": recorded_session(store, feed=SAMPLES / "feeds" / "iv-quiet.csv", actions=None, chair="Chair 1",
                               patient="P-12", dose="0.5 mg/kg"),
        "replayed": _replayed(store),
        "unassessed": recorded_session(store, feed=SAMPLES / "scenarios" / "esketamine-56-quiet.csv",
                                       items=_unassessed_items(), actions=None, chair="Chair 2", patient="P-56",
                                       dose="56 mg"),
    }
    yield store, ids
    store.close()


@pytest.mark.parametrize("kind", KINDS)
def test_fhir_bundle_validates_as_r4_and_links_everything_to_the_encounter(sessions, kind):
    store, ids = sessions
    record = load_record(store, ids[kind])
    bundle = json.loads(export_session(store, CONFIG, ids[kind], "fhir").content)
    R4BBundle.model_validate(bundle)
    R4Bundle(bundle, strict=True)  # FHIR 4.0.1: unknown elements, wrong types and missing required ones raise
    by_type: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        by_type.setdefault(entry["resource"]["resourceType"], []).append(entry)
    (encounter,) = by_type["Encounter"]
    (location,) = by_type["Location"]
    enc = encounter["resource"]
    assert enc["status"] == "finished" and enc["class"]["code"] == "AMB"
    assert enc["location"][0]["location"]["reference"] == location["fullUrl"]
    assert location["resource"]["name"] == record.row.chair
    assert _epoch(enc["period"]["start"]) == pytest.approx(record.wall_time(0.0), abs=1e-3)
    assert _epoch(enc["period"]["end"]) == pytest.approx(record.wall_time(record.end_s), abs=1e-3)
    for obs in by_type["Observation"]:
        assert obs["resource"]["encounter"]["reference"] == encounter["fullUrl"]
    (dose,) = by_type["MedicationAdministration"]
    given = dose["resource"]
    assert given["context"]["reference"] == encounter["fullUrl"] and given["status"] == "completed"
    assert _epoch(given["effectivePeriod"]["start"]) == pytest.approx(record.wall_time(record.status["dose_at"]),
                                                                      abs=1e-3)
    route = given["dosage"]["route"]["coding"][0]["code"]
    assert route == ("47625008" if kind == "iv" else "46713006")
    if kind == "iv":
        assert "QuestionnaireResponse" not in by_type and given["dosage"]["text"] == "0.5 mg/kg"
        return
    assert given["dosage"]["dose"]["code"] == "mg"
    (response,) = by_type["QuestionnaireResponse"]
    answers = {item["linkId"]: item for item in response["resource"]["item"]}
    questionnaire = by_type["Questionnaire"][0]["resource"]
    assert [i["linkId"] for i in questionnaire["item"]] == list(answers)  # the form's order, every field
    assert response["resource"]["encounter"]["reference"] == encounter["fullUrl"]
    if kind == "esketamine":
        assert answers["patient"]["answer"] == [{"valueString": "MRN-0042"}]
        assert answers["concomitant-non_benzodiazepine_hypnotics"]["answer"] == [{"valueBoolean": True}]
        assert given["contained"][0]["batch"]["lotNumber"] == "LOT 24K17B"
        assert answers["sedation-dissociation-respiratory-depression"]["answer"] == [{"valueBoolean": True}]
    if kind == "unassessed":  # not assessed is never "No"
        link = "sedation-dissociation-respiratory-depression"
        assert "answer" not in answers[link]
        assert answers[link]["extension"][0]["valueCode"] == "not-performed"


@pytest.mark.parametrize("version", ["2.5", "2.6"])
@pytest.mark.parametrize("kind", KINDS)
def test_hl7_oru_passes_hl7apy_strict(sessions, kind, version):
    store, ids = sessions
    record = load_record(store, ids[kind])
    raw = export_session(store, CONFIG, ids[kind], "hl7", hl7_version=version).content.decode()
    message = parse_message(raw, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert message.validate()
    assert message.msh.msh_12.to_er7() == version
    pid = message.oru_r01_patient_result.oru_r01_patient.pid
    assert pid.pid_5.to_er7() == f"{record.row.patient_label}^^^^^^S"  # a coded pseudo-name, never a real one
    pv1 = raw.split("\r")[2].split("|")[3].split("^")
    assert pv1[0] == record.row.chair[:20].rstrip() and len(pv1[0]) <= 20
    if len(record.row.chair) > 20:
        assert pv1[8] == record.row.chair  # PL-9, the location description, keeps it whole
    obx_times = [seg.split("|")[14] for seg in raw.split("\r") if seg.startswith("OBX")]
    first = record.bp_readings[0]
    # the session's own times: its start plus session seconds, also for the replay stored at 60x
    own = dt.datetime.fromtimestamp(record.row.started_at + first["offset_s"], dt.timezone.utc)
    assert any(t.startswith(own.strftime("%Y%m%d%H%M%S")) for t in obx_times)


@pytest.mark.parametrize("version", ["2.5", "2.6"])
def test_hl7_of_a_session_with_no_readings_passes_hl7apy_strict(tmp_path, version):
    """ORU^R01 needs an order observation: a session opened and closed with no reading is one OBR and a note."""
    from dashboard.reports.exports.hl7_message import NO_READINGS

    store = Store.open(tmp_path / "clinic.db")
    sid = store.create_session(chair="Chair 6", patient_label="P-60", protocol="esketamine-56",
                               started_at=time.time() - 600)
    raw = export_session(store, CONFIG, sid, "hl7", hl7_version=version).content.decode()
    message = parse_message(raw, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert message.validate()
    segments = [seg.split("|")[0] for seg in raw.split("\r") if seg]
    assert segments == ["MSH", "PID", "PV1", "OBR", "NTE"]
    assert NO_READINGS in raw
    obr = message.oru_r01_patient_result.oru_r01_order_observation.obr
    started = dt.datetime.fromtimestamp(load_record(store, sid).wall_time(0.0), dt.timezone.utc)
    assert obr.obr_7.to_er7().startswith(started.strftime("%Y%m%d%H%M%S"))
    store.close()


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_has_the_rems_block_and_the_sessions_own_start_and_end(sessions, kind):
    store, ids = sessions
    record = load_record(store, ids[kind])
    pdf = PdfReader(io.BytesIO(session_pdf(record, CONFIG)))
    text = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    started = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(record.wall_time(0.0)))
    ended = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(record.wall_time(record.end_s)))
    if kind == "replayed":  # replayed in seconds, but its record spans the feed's 2 h 15 min: said as such
        assert record.ended_wall - record.wall_time(0.0) == pytest.approx(8100)
        replay_ended = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(record.row.ended_at))
        assert f"Started {started} (replay of a feed at 60x)" in text
        assert f"Ended 2:15:00 into the feed; the replay ended {replay_ended}" in text
    else:
        assert f"Started {started}" in text and f"Ended {ended}" in text
    if kind == "iv":
        assert "REMS" not in text
        return
    block = text[text.index("SPRAVATO REMS Patient Monitoring Form"):text.index("Session log")]
    assert "Blood pressure 40 mins post-administration" in block and "after the first device" in block
    if kind == "unassessed":  # the current form asks the three in one question: not assessed, never "No"
        assert block.count("Not assessed") == 1
        assert "sedation, dissociation, or respiratory depression? Not assessed" in block
    if kind == "esketamine":
        assert "MRN-0042" in block and "LOT 24K17B" in block


# ---- the feed and its actions reproduce a web-driven session -------------------------------------------


class Clock:
    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t


def _web_session(store: Store, until_s: float, discharge: bool) -> int:
    """A session as a chair lives it: the monitor's readings stamped by ingest as they arrive, the nurse's actions
    queued through the store (dose, acknowledgements while a severe BP persists and after it latched, an audio
    pause, an override, discharge). The ingest clock moves 5 s a step."""
    start = 1_900_000_000.0
    clock = Clock(start)
    ingest = Ingest(store, CONFIG, clock)
    sid = store.create_session(chair="Chair 4", patient_label="P-44", protocol="esketamine-84", started_at=start,
                               dose="84 mg")
    store.submit_action(sid, "session_start", "nurse1", detail="esketamine-84", at=start)
    profile = {60: (128, 82), 300: (130, 84), 600: (150, 92), 900: (168, 100), 1200: (186, 112), 1500: (190, 114),
               1800: (176, 104), 2100: (158, 96), 2400: (150, 92), 3000: (140, 88)}
    actions = {300: ("dose_start", "84 mg"), 1250: ("acknowledge", "bp.severe"), 1300: ("audio_pause", "120"),
               1460: ("acknowledge", "bp.severe"), 1900: ("acknowledge", "bp.severe"),
               2500: ("assessment", "moaas=4;dissociation=yes;resp=ok"), 2600: ("acknowledge", "bp.rise"),
               7600: ("override", "discharge before ready: escort waiting"), 7605: ("discharge", "override")}
    t = 0
    while t <= until_s:
        clock.t = start + t
        items = [Reading("oximeter", hr=78, spo2=90 if 4000 <= t < 4030 else 97)]
        if t in profile or (t > 3000 and t % 600 == 0):
            sbp, dbp = profile.get(t, (132, 84))
            items.append(Reading("nibp", sbp=sbp, dbp=dbp, hr=80))
        if t < until_s - 600 or discharge:  # an open session's devices fall silent for its last 10 minutes
            ingest.submit("Chair 4", items)
        if t in actions and (discharge or actions[t][0] != "discharge"):
            store.submit_action(sid, actions[t][0], "nurse1", detail=actions[t][1], at=clock.t)
        ingest.step()
        t += 5
    return sid


@pytest.mark.parametrize("discharge", [True, False], ids=["discharged", "open"])
def test_feed_and_actions_reproduce_every_alarm_transition(tmp_path, discharge):
    store = Store.open(tmp_path / "clinic.db")
    sid = _web_session(store, 7700 if discharge else 3600, discharge)
    feed, actions = tmp_path / "feed.csv", tmp_path / "actions.csv"
    feed.write_bytes(export_session(store, CONFIG, sid, "feed").content)
    actions.write_bytes(export_session(store, CONFIG, sid, "actions").content)
    stored = [(t["code"], t["state"], t["source"], t["offset_s"]) for t in store.alarms_of(sid)]
    assert {"acknowledged", "realarm", "latched", "escalated"} <= {s for _, s, _, _ in stored}
    if not discharge:
        assert ("data.stale", "raised", "nibp") in {(c, s, src) for c, s, src, _ in stored}  # a timer, after the last item
    result = subprocess.run([sys.executable, "app.py", "check", str(feed), "--actions", str(actions), "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    replayed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["code"], r["state"], r["source"]) for r in replayed] == [s[:3] for s in stored]
    for got, (*_, offset) in zip(replayed, stored):
        assert got["offset_s"] == pytest.approx(offset, abs=1e-3)  # the feed keeps session time to the millisecond
    store.close()


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_check_reproduces_the_exported_sample_the_python_api_way(sessions, tmp_path):
    """The same through the library: the esketamine session's exports give back its stored history."""
    store, ids = sessions
    feed, actions = tmp_path / "feed.csv", tmp_path / "actions.csv"
    feed.write_bytes(export_session(store, CONFIG, ids["esketamine"], "feed").content)
    actions.write_bytes(export_session(store, CONFIG, ids["esketamine"], "actions").content)
    replayed = [(t.code, t.state) for t in run_check(feed, CONFIG, actions).transitions]
    assert replayed == [(t["code"], t["state"]) for t in store.alarms_of(ids["esketamine"])]
