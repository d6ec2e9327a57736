"""Every export parsed back and checked against what the store holds."""
from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import hl7
import pandas as pd
import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from dashboard.cli.check import run_check
from dashboard.engine import load_config
from dashboard.reports.exports import FORMATS, SessionNotFound, export_session
from dashboard.reports.exports.pdf_report import session_pdf
from dashboard.reports.record import load_record
from dashboard.store import Store
from dashboard.store.review_queries import readings_of
from dashboard.store.signoff import sign_off
from devices.feed import read_feed
from devices.hl7 import parse_oru

from ..review_sessions import SAMPLES, recorded_session
from ..waits import DEADLINE_S

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config()
LOINC_KEYS = {"8480-6": "sbp", "8462-4": "dbp", "8478-0": "map"}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    db = tmp_path_factory.mktemp("exports") / "clinic.db"
    store = Store.open(db)
    sid = recorded_session(store, patient="Demo 03")
    sign_off(store, sid, "dr-lee", "BP peak managed; discharged well")
    yield store, sid, db
    store.close()


@pytest.fixture(scope="module")
def short_recorded(tmp_path_factory):
    """A short recorded session (BP with HR, and oximetry) for the exports of every sample: the 4-hour session's
    are 8,000 HL7 OBR groups or FHIR Observations, which python-hl7 and fhir.resources take tens of seconds to read."""
    store = Store.open(tmp_path_factory.mktemp("exports-short") / "clinic.db")
    sid = recorded_session(store, feed=SAMPLES / "feeds" / "oximeter-hold.csv", actions=None, patient="Demo 03")
    yield store, sid, None
    store.close()


def _export(recorded, fmt, **options):
    store, sid, _ = recorded
    return export_session(store, CONFIG, sid, fmt, **options).content


def test_csv_has_every_reading_event_and_transition(recorded):
    store, sid, _ = recorded
    frame = pd.read_csv(io.BytesIO(_export(recorded, "csv")), keep_default_na=False, na_values={"sbp": [""]})
    stored = readings_of(store, sid)
    readings = frame[frame.record == "reading"]
    assert len(readings) == len(stored)
    assert readings.offset_s.tolist() == [r["offset_s"] for r in stored]
    assert readings.sbp.dropna().tolist() == [r["sbp"] for r in stored if r["sbp"] is not None]
    assert pd.to_numeric(readings.spo2.replace("", None)).dropna().tolist() == \
        [r["spo2"] for r in stored if r["spo2"] is not None]
    events = frame[frame.record == "event"]
    assert list(zip(events.event, events.who)) == [(e["kind"], e["who"]) for e in store.events_of(sid)]
    alarms = frame[frame.record == "alarm"]
    assert list(zip(alarms.code, alarms.state)) == [(t["code"], t["state"]) for t in store.alarms_of(sid)]
    assert "Demo 03" not in frame.to_csv()  # the CSV is about the session, named by its id


def test_feed_and_actions_replay_to_the_stored_alarms(recorded, tmp_path):
    store, sid, _ = recorded
    feed, actions = tmp_path / "feed.csv", tmp_path / "actions.csv"
    feed.write_bytes(_export(recorded, "feed"))
    actions.write_bytes(_export(recorded, "actions"))
    parsed = read_feed(feed)
    assert parsed.problems == [] and parsed.protocol == "esketamine-84"
    assert sum(1 for _ in parsed.items if hasattr(_, "sbp")) == len(readings_of(store, sid))
    replayed = [(t.offset_s, t.code, t.state, t.source) for t in run_check(feed, CONFIG, actions).transitions]
    stored = [(t["offset_s"], t["code"], t["state"], t["source"]) for t in store.alarms_of(sid)]
    assert replayed == stored


def test_fhir_bundle_validates_and_matches_the_readings(short_recorded):
    store, sid, _ = short_recorded
    record = load_record(store, sid)
    bundle = json.loads(_export(short_recorded, "fhir", every_s=0))
    Bundle.model_validate(bundle)  # fhir.resources' R4B models (R4's Bundle/Observation are unchanged in R4B)
    resources = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    patient = next(r for r in resources.values() if r["resourceType"] == "Patient")
    assert patient["identifier"][0]["value"] == "Demo 03"
    observations = [r for r in resources.values() if r["resourceType"] == "Observation"]
    bp = [o for o in observations if o["code"]["coding"][0]["code"] == "85354-9"]
    assert len(bp) == len(record.bp_readings)
    for obs, reading in zip(bp, record.bp_readings):
        values = {LOINC_KEYS[c["code"]["coding"][0]["code"]]: c["valueQuantity"] for c in obs["component"]}
        assert (values["sbp"]["value"], values["dbp"]["value"]) == (reading["sbp"], reading["dbp"])
        assert values["sbp"]["system"] == "http://unitsofmeasure.org" and values["sbp"]["code"] == "mm[Hg]"
        assert obs["meta"]["profile"] == ["http://hl7.org/fhir/StructureDefinition/bp"]
        assert obs["category"][0]["coding"][0]["code"] == "vital-signs" and obs["status"] == "final"
        assert _epoch(obs["effectiveDateTime"]) == pytest.approx(record.wall_time(reading["offset_s"]), abs=1e-3)
        assert resources[obs["subject"]["reference"]] is patient
        assert resources[obs["device"]["reference"]]["deviceName"][0]["name"] == reading["source"]
    hr = [o for o in observations if o["code"]["coding"][0]["code"] == "8867-4"]
    assert [o["valueQuantity"]["value"] for o in hr] == [r["hr"] for r in record.readings if r["hr"] is not None]
    assert {o["valueQuantity"]["code"] for o in hr} == {"/min"}
    spo2 = [o for o in observations if o["code"]["coding"][0]["code"] == "59408-5"]
    assert [o["valueQuantity"]["value"] for o in spo2] == [r["spo2"] for r in record.readings if r["spo2"] is not None]
    assert {o["valueQuantity"]["code"] for o in spo2} == {"%"}


def test_fhir_by_default_keeps_every_bp_and_thins_continuous_samples(recorded):
    store, sid, _ = recorded
    record = load_record(store, sid)
    bundle = json.loads(_export(recorded, "fhir"))
    Bundle.model_validate(bundle)
    codes = [e["resource"]["code"]["coding"][0]["code"] for e in bundle["entry"]
             if e["resource"]["resourceType"] == "Observation"]
    minutes = int(record.readings[-1]["offset_s"] // 60) + 1
    assert codes.count("85354-9") == len(record.bp_readings)
    assert minutes <= codes.count("59408-5") <= minutes + 2
    assert json.loads(_export(recorded, "fhir")) == bundle  # stable ids: the same record exports the same bundle


def test_hl7_oru_parses_with_python_hl7_and_our_listener(short_recorded):
    store, sid, _ = short_recorded
    record = load_record(store, sid)
    assert record.bp_readings and any(r["spo2"] is not None for r in record.readings)
    raw = _export(short_recorded, "hl7", every_s=0)
    message = hl7.parse(raw.decode())
    assert str(message.segment("MSH")[9]) == "ORU^R01^ORU_R01" and str(message.segment("PID")[3][0][0]) == "Demo 03"
    assert len(message.segments("OBR")) == len(record.readings)
    oru = parse_oru(raw, dt.timezone.utc)
    readings = oru.readings(received=0.0)
    assert len(readings) == len(record.readings)
    for got, stored in zip(readings, record.readings):
        assert (got.sbp, got.dbp, got.map, got.hr, got.spo2) == tuple(stored[k] for k in ("sbp", "dbp", "map", "hr", "spo2"))
        assert got.device_time == pytest.approx(record.wall_time(stored["offset_s"]), abs=1e-3)
        assert got.device_id == stored["source"]
    assert oru.unknown == ()


def test_pdf_report_text_has_the_patient_the_peak_each_alarm_and_the_sign_off(recorded):
    store, sid, _ = recorded
    pdf = PdfReader(io.BytesIO(_export(recorded, "pdf")))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    record = load_record(store, sid)
    peak = record.status["peak"]
    assert "Demo 03" in text and f"{peak['sbp']:.0f}/{peak['dbp']:.0f}" in text
    for episode in record.episodes:
        assert episode.code in text and episode.value in text
    acked = time.strftime("%H:%M:%S", time.localtime(record.wall_time(2550)))  # 42:30 into the session
    assert f"RN-AB at {acked}" in text and "Signed off by dr-lee" in text and "BP peak managed" in text
    assert "Blood pressure 40 mins post-administration" in text  # the REMS form
    assert not pdf.pages[0].images and "clock time (minutes from session start)" in text  # the chart, drawn


def test_unknown_session_or_format(recorded):
    store, _, _ = recorded
    with pytest.raises(SessionNotFound):
        export_session(store, CONFIG, 999, "csv")
    with pytest.raises(ValueError, match="unknown export format"):
        export_session(store, CONFIG, 1, "xml")


@pytest.mark.parametrize("fmt", ["csv", "fhir", "hl7", "actions"])
def test_the_command_line_writes_each_format(recorded, tmp_path, fmt):
    store, sid, db = recorded
    out = tmp_path / f"out.{fmt}"
    result = subprocess.run([sys.executable, "app.py", "export", str(sid), "--format", fmt, "--database", str(db),
                             "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE_S)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == export_session(store, CONFIG, sid, fmt).content or fmt == "hl7"
    assert "Demo 03" not in result.stderr and f"session {sid}" in result.stderr
    assert set(FORMATS) >= {"csv", "feed", "pdf", "fhir", "hl7"}


def test_the_command_line_refuses_a_missing_session(recorded):
    """(The PDF through the command line: the README's `export 1 --format pdf` line, run by tests/test_readme.py.)"""
    _, _, db = recorded
    missing = subprocess.run([sys.executable, "app.py", "export", "999", "--format", "fhir", "--database", str(db)],
                             cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE_S)
    assert missing.returncode == 2 and "no session 999" in missing.stderr


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_a_replayed_session_is_marked_test_data_in_every_export(recorded, tmp_path):
    """Issue 12: test data kept apart. The real session above carries no mark; the same record as a replay does."""
    import sqlalchemy as sa

    from dashboard.store.schema import sessions

    store = Store.open(tmp_path / "replay.db")
    sid = recorded_session(store, patient="Replay esketamine-severe-peak", actions=None)
    with store.engine.begin() as conn:
        conn.execute(sa.update(sessions).where(sessions.c.id == sid).values(clock="feed"))
    # the default thinning: the mark does not depend on how many samples go out (every sample: tests above)
    test = {fmt: export_session(store, CONFIG, sid, fmt).content for fmt in ("csv", "hl7", "fhir")}
    test["pdf"] = session_pdf(load_record(store, sid), CONFIG)
    real = {fmt: _export(recorded, fmt) for fmt in ("csv", "hl7", "fhir")}
    assert set(pd.read_csv(io.BytesIO(test["csv"]))["test_data"]) == {"REPLAY"}
    assert pd.read_csv(io.BytesIO(real["csv"]))["test_data"].isna().all()
    assert str(hl7.parse(test["hl7"].decode()).segment("MSH")[11]) == "T"  # processing ID: training
    assert str(hl7.parse(real["hl7"].decode()).segment("MSH")[11]) == "P"
    bundle = json.loads(test["fhir"])
    Bundle.model_validate(bundle)
    assert bundle["meta"]["tag"][0]["code"] == "HTEST" and "meta" not in json.loads(real["fhir"])
    assert all("TEST DATA - REPLAY, NOT A PATIENT" in page.extract_text()
               for page in PdfReader(io.BytesIO(test["pdf"])).pages)
    store.close()
