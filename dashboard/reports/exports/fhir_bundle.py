"""The session as a FHIR R4 Bundle (type collection) of vital-signs Observations.

- a Patient, identified only by the clinic's pseudonymous patient label;
- a Device per reading source (the NIBP monitor, the oximeter, ...);
- per NIBP reading a blood-pressure panel (LOINC 85354-9, profile `bp`) with systolic
  8480-6 and diastolic 8462-4 components (mean 8478-0 when measured), and the cuff's
  pulse as a heart rate (8867-4, profile `heartrate`);
- per exported continuous sample a heart rate and an oxygen saturation (LOINC 59408-5
  "by pulse oximetry", with 2708-6 which the base `oxygensat` profile requires).

Units are UCUM (mm[Hg], /min, %). `effectiveDateTime` is the session time as wall
time (UTC). Ids are UUIDs derived from the session and the reading, so the same
record always exports the same bundle. Manually entered BPs have no device reference.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from ...store.test_data import mark
from ..record import SessionRecord
from .selection import DEFAULT_EVERY_S, exported_readings

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs", "display": "Vital Signs"}], "text": "Vital Signs"}
PROFILE = "http://hl7.org/fhir/StructureDefinition/"
LABEL_SYSTEM = "urn:session-monitor:patient-label"  # the clinic's pseudonymous label, not a national id
TEST_DATA_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"  # HTEST: test health data
NAMESPACE = uuid.UUID("5b0e4a52-3f0c-4d2a-9a8e-6f1f2a3b4c5d")  # fixed: ids are stable across exports

BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
MEAN = ("8478-0", "Mean blood pressure")
HEART_RATE = ("8867-4", "Heart rate")
SPO2_PULSE_OX = ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")
SPO2_ARTERIAL = ("2708-6", "Oxygen saturation in Arterial blood")


def session_bundle(record: SessionRecord, every_s: float = DEFAULT_EVERY_S) -> dict[str, Any]:
    patient = _urn("patient", record.id)
    devices = {source: _urn("device", record.id, source) for source in _device_sources(record)}
    entries = [_entry(patient, _patient(record)), *(_entry(url, _device(src)) for src, url in devices.items())]
    for r in exported_readings(record, every_s):
        for key, resource in _observations(record, r, patient, devices.get(r["source"])):
            entries.append(_entry(_urn(key, record.id, r["id"]), resource))
    bundle = {"resourceType": "Bundle", "id": str(_uuid("bundle", record.id)), "type": "collection",
              "timestamp": _instant(record, record.end_s), "entry": entries}
    if mark(record.row):  # a replay or simulated session: tagged as test data (v3 ActReason HTEST)
        bundle["meta"] = {"tag": [{"system": TEST_DATA_SYSTEM, "code": "HTEST", "display": "test health data"}]}
    return bundle


def session_fhir(record: SessionRecord, every_s: float = DEFAULT_EVERY_S) -> bytes:
    return json.dumps(session_bundle(record, every_s), indent=1).encode("utf-8")


def _device_sources(record: SessionRecord) -> list[str]:
    return sorted({r["source"] for r in record.readings if r["provenance"] != "manual"})


def _patient(record: SessionRecord) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": [{"system": LABEL_SYSTEM, "value": record.row.patient_label}]}


def _device(source: str) -> dict[str, Any]:
    return {"resourceType": "Device", "deviceName": [{"name": source, "type": "user-friendly-name"}]}


def _observations(record: SessionRecord, r: dict[str, Any], patient: str, device: str | None):
    """(kind, Observation) pairs of one reading."""
    base = {"resourceType": "Observation", "status": "final", "category": [CATEGORY],
            "subject": {"reference": patient}, "effectiveDateTime": _instant(record, r["offset_s"])}
    if device is not None and r["provenance"] != "manual":
        base["device"] = {"reference": device}
    if r["sbp"] is not None and r["dbp"] is not None:
        components = [_component(SYSTOLIC, r["sbp"], "mm[Hg]", "mmHg"), _component(DIASTOLIC, r["dbp"], "mm[Hg]", "mmHg")]
        if r["map"] is not None:
            components.append(_component(MEAN, r["map"], "mm[Hg]", "mmHg"))
        yield "bp", {**base, "meta": {"profile": [PROFILE + "bp"]}, "code": _code(BP_PANEL), "component": components}
    if r["hr"] is not None:
        yield "hr", {**base, "meta": {"profile": [PROFILE + "heartrate"]}, "code": _code(HEART_RATE),
                     "valueQuantity": _quantity(r["hr"], "/min", "beats/minute")}
    if r["spo2"] is not None:
        yield "spo2", {**base, "meta": {"profile": [PROFILE + "oxygensat"]},
                       "code": _code(SPO2_PULSE_OX, SPO2_ARTERIAL), "valueQuantity": _quantity(r["spo2"], "%", "%")}


def _code(*codes: tuple[str, str]) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code, "display": display} for code, display in codes],
            "text": codes[0][1]}


def _component(code: tuple[str, str], value: float, ucum: str, unit: str) -> dict[str, Any]:
    return {"code": _code(code), "valueQuantity": _quantity(value, ucum, unit)}


def _quantity(value: float, ucum: str, unit: str) -> dict[str, Any]:
    return {"value": int(value) if float(value).is_integer() else value, "unit": unit, "system": UCUM, "code": ucum}


def _entry(full_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": full_url, "resource": {"id": full_url.rsplit(":", 1)[1], **resource}}


def _uuid(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts))


def _urn(*parts: object) -> str:
    return f"urn:uuid:{_uuid(*parts)}"


def _instant(record: SessionRecord, offset_s: float) -> str:
    return record.utc(offset_s).isoformat(timespec="milliseconds").replace("+00:00", "Z")
