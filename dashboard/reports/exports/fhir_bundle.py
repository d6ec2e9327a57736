"""The session as a FHIR R4 Bundle (type collection).

- a Patient, identified by the clinic's pseudonymous patient label (and the site's identifier when given);
- a Location for the chair, and an Encounter for the session: status (in-progress while open, finished
  after), class ambulatory, period from the session start to its end, location the chair;
- a Device per reading source (the NIBP monitor, the oximeter, ...);
- per NIBP reading a blood-pressure panel (LOINC 85354-9, profile `bp`) with systolic
  8480-6 and diastolic 8462-4 components (mean 8478-0 when measured), and the cuff's
  pulse as a heart rate (8867-4, profile `heartrate`);
- per exported continuous sample a heart rate and an oxygen saturation (LOINC 59408-5
  "by pulse oximetry", with 2708-6 which the base `oxygensat` profile requires);
  every Observation refers to the Encounter;
- a MedicationAdministration for the dose: from the dose start to the end of dosing (esketamine devices) or
  the infusion end (IV), the dose in mg when the session states it (else as text), the route (SNOMED CT),
  the lot on a contained Medication, the nurse who recorded it;
- the pre-dose checklist, once anything of it was answered, as a QuestionnaireResponse (each item answered
  "done" or "overridden: <reason>", with who) answering a Questionnaire of the protocol's list (in the bundle);
- for esketamine, the REMS Patient Monitoring Form as a QuestionnaireResponse answering a Questionnaire (in the
  bundle) whose items are the form's fields in its order; an answer nobody could give (sedation not assessed)
  carries the data-absent-reason extension `not-performed` rather than a "No".

Units are UCUM (mm[Hg], /min, %, mg). Times are the session's own (reports.record.session_wall_time) in UTC.
Ids are UUIDs derived from the session and the item, so the same record always exports the same bundle.
Manually entered BPs have no device reference.
"""
from __future__ import annotations

import json
import re
import uuid
from typing import Any

from ...engine import Config
from ...store.test_data import mark
from ..predose import ChecklistEntry, checklist_entries
from ..record import SessionRecord
from ..rems import FormField, RemsForm, dose_given
from .selection import DEFAULT_EVERY_S, exported_readings

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs", "display": "Vital Signs"}], "text": "Vital Signs"}
PROFILE = "http://hl7.org/fhir/StructureDefinition/"
LABEL_SYSTEM = "urn:session-monitor:patient-label"  # the clinic's pseudonymous label, not a national id
SITE_ID_SYSTEM = "urn:session-monitor:site-patient-id:"  # + the site: the identifier that site files the patient under
QUESTIONNAIRE_URL = "urn:session-monitor:questionnaire:spravato-rems-patient-monitoring"
CHECKLIST_URL = "urn:session-monitor:questionnaire:predose-checklist:"  # + the protocol
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
AMBULATORY = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"}
ROUTES = {  # SNOMED CT route of administration
    "esketamine": {"system": SNOMED, "code": "46713006", "display": "Nasal route"},
    "iv": {"system": SNOMED, "code": "47625008", "display": "Intravenous route"},
}
TEST_DATA_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"  # HTEST: test health data
NAMESPACE = uuid.UUID("5b0e4a52-3f0c-4d2a-9a8e-6f1f2a3b4c5d")  # fixed: ids are stable across exports

BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
MEAN = ("8478-0", "Mean blood pressure")
HEART_RATE = ("8867-4", "Heart rate")
SPO2_PULSE_OX = ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")
SPO2_ARTERIAL = ("2708-6", "Oxygen saturation in Arterial blood")


def session_bundle(record: SessionRecord, config: Config, every_s: float = DEFAULT_EVERY_S) -> dict[str, Any]:
    patient, chair, encounter = (_urn(kind, record.id) for kind in ("patient", "location", "encounter"))
    devices = {source: _urn("device", record.id, source) for source in _device_sources(record)}
    entries = [_entry(patient, _patient(record)), _entry(chair, _location(record)),
               _entry(encounter, _encounter(record, patient, chair)),
               *(_entry(url, _device(src)) for src, url in devices.items())]
    context = {"subject": {"reference": patient}, "encounter": {"reference": encounter}}
    for r in exported_readings(record, every_s):
        for key, resource in _observations(record, r, context, devices.get(r["source"])):
            entries.append(_entry(_urn(key, record.id, r["id"]), resource))
    if record.status.get("dose_at") is not None:
        entries.append(_entry(_urn("dose", record.id), _administration(record, patient, encounter)))
    checklist = checklist_entries(record.row.protocol, record.events, config)
    if any(item.state != "not answered" for item in checklist):
        entries.append(_entry(_urn("questionnaire", "checklist", record.id),
                              _checklist_questionnaire(record, checklist)))
        entries.append(_entry(_urn("checklist", record.id), _checklist_response(record, checklist, context)))
    form = record.rems(config)
    if form is not None:
        entries.append(_entry(_urn("questionnaire", "rems", form.revision.date), _questionnaire(form)))
        entries.append(_entry(_urn("rems", record.id), _response(record, form, context)))
    bundle = {"resourceType": "Bundle", "id": str(_uuid("bundle", record.id)), "type": "collection",
              "timestamp": _instant(record, record.end_s), "entry": entries}
    if mark(record.row):  # a replay or simulated session: tagged as test data (v3 ActReason HTEST)
        bundle["meta"] = {"tag": [{"system": TEST_DATA_SYSTEM, "code": "HTEST", "display": "test health data"}]}
    return bundle


def session_fhir(record: SessionRecord, config: Config, every_s: float = DEFAULT_EVERY_S) -> bytes:
    return json.dumps(session_bundle(record, config, every_s), indent=1).encode("utf-8")


def _device_sources(record: SessionRecord) -> list[str]:
    return sorted({r["source"] for r in record.readings if r["provenance"] != "manual"})


def _patient(record: SessionRecord) -> dict[str, Any]:
    ids = [{"system": LABEL_SYSTEM, "value": record.row.patient_label}]
    if record.row.patient_identifier:
        ids.append({"use": "official", "system": SITE_ID_SYSTEM + _token(record.row.site),
                    "value": record.row.patient_identifier})
    return {"resourceType": "Patient", "identifier": ids}


def _location(record: SessionRecord) -> dict[str, Any]:
    return {"resourceType": "Location", "status": "active", "name": record.row.chair, "mode": "instance",
            "description": f"treatment chair at site {record.row.site}"}


def _encounter(record: SessionRecord, patient: str, chair: str) -> dict[str, Any]:
    ended = record.ended_wall
    period = {"start": _instant(record, 0.0)}
    if ended is not None:
        period["end"] = _instant(record, record.end_s)
    return {"resourceType": "Encounter", "status": "finished" if ended is not None else "in-progress",
            "class": AMBULATORY, "type": [{"text": record.status.get("protocol_label") or record.row.protocol}],
            "subject": {"reference": patient}, "period": period,
            "location": [{"location": {"reference": chair, "display": record.row.chair},
                          "status": "completed" if ended is not None else "active", "period": period}]}


def _device(source: str) -> dict[str, Any]:
    return {"resourceType": "Device", "deviceName": [{"name": source, "type": "user-friendly-name"}]}


def _observations(record: SessionRecord, r: dict[str, Any], context: dict[str, Any], device: str | None):
    """(kind, Observation) pairs of one reading."""
    base = {"resourceType": "Observation", "status": "final", "category": [CATEGORY], **context,
            "effectiveDateTime": _instant(record, r["offset_s"])}
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


def _administration(record: SessionRecord, patient: str, encounter: str) -> dict[str, Any]:
    """The dose: esketamine from the first device to the end of dosing, IV from the infusion's start to its end."""
    status, row = record.status, record.row
    esketamine = row.protocol.startswith("esketamine")
    start = status["dose_at"]
    end = status.get("dosing_end_at") if esketamine else status.get("infusion_end_at")
    medication: dict[str, Any] = {"resourceType": "Medication", "id": "medication",
                                  "code": {"text": "esketamine nasal spray" if esketamine else "ketamine injection"}}
    if row.lot:
        medication["batch"] = {"lotNumber": row.lot}
    dose = dose_given(row, record.events)
    dosage: dict[str, Any] = {"text": dose or "not stated", "route": {"coding": [ROUTES["esketamine" if esketamine
                                                                                          else "iv"]]}}
    milligrams = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*mg\s*", dose)
    if milligrams:
        dosage["dose"] = _quantity(float(milligrams.group(1)), "mg", "mg")
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration", "contained": [medication],
        "status": "completed" if end is not None and end <= record.end_s else "in-progress",
        "medicationReference": {"reference": "#medication"}, "subject": {"reference": patient},
        "context": {"reference": encounter}, "dosage": dosage}
    resource["effectivePeriod" if end is not None else "effectiveDateTime"] = (
        {"start": _instant(record, start), "end": _instant(record, end)} if end is not None
        else _instant(record, start))
    nurse = next((e["who"] for e in record.events if e["kind"] == "dose_start" and e.get("who")), "")
    if nurse:
        resource["performer"] = [{"actor": {"display": nurse}}]
    return resource


def _questionnaire(form: RemsForm) -> dict[str, Any]:
    """The REMS form's fields as a Questionnaire, one per revision of the form (its id and version are the
    revision's: the same for every session filled under it)."""
    return {"resourceType": "Questionnaire", "url": QUESTIONNAIRE_URL, "version": form.revision.date,
            "status": "active", "title": f"{form.title} (fields as the session monitor fills them)",
            "item": [{"linkId": f.link_id, "prefix": f.section, "text": f.question, "type": f.kind}
                     for f in form.fields()]}


def _response(record: SessionRecord, form: RemsForm, context: dict[str, Any]) -> dict[str, Any]:
    items = []
    for f in form.fields():
        item: dict[str, Any] = {"linkId": f.link_id, "text": f.question}
        if f.value is not None:
            item["answer"] = [{_ANSWER_KEYS[f.kind]: f.value}]
        else:
            item["extension"] = [{"url": DATA_ABSENT, "valueCode": _absent(f)}]
        items.append(item)
    return {"resourceType": "QuestionnaireResponse", "questionnaire": f"{QUESTIONNAIRE_URL}|{form.revision.date}",
            "status": "completed" if record.ended_wall is not None else "in-progress", **context,
            "authored": _instant(record, record.end_s), "item": items}


def _checklist_questionnaire(record: SessionRecord, checklist: list[ChecklistEntry]) -> dict[str, Any]:
    """The items as this session asked them (a clinic's list changes; the answers keep the wording asked)."""
    return {"resourceType": "Questionnaire", "url": CHECKLIST_URL + _token(record.row.protocol), "status": "active",
            "title": f"Pre-dose checklist ({record.row.protocol})",
            "item": [{"linkId": item.key, "text": item.text, "type": "string"} for item in checklist]}


def _checklist_response(record: SessionRecord, checklist: list[ChecklistEntry],
                        context: dict[str, Any]) -> dict[str, Any]:
    items = []
    for item in checklist:
        entry: dict[str, Any] = {"linkId": item.key, "text": item.text}
        if item.state == "not answered":
            entry["extension"] = [{"url": DATA_ABSENT, "valueCode": "unknown"}]
        else:
            entry["answer"] = [{"valueString": f"{item.answer} ({item.who or 'unknown'})"}]
        items.append(entry)
    answered = [item.offset_s for item in checklist if item.offset_s is not None]
    return {"resourceType": "QuestionnaireResponse", "questionnaire": CHECKLIST_URL + _token(record.row.protocol),
            "status": "completed" if all(item.state != "not answered" for item in checklist) else "in-progress",
            **context, "authored": _instant(record, max(answered)), "item": items}


def _absent(f: FormField) -> str:
    """Why a field has no answer: nobody assessed it, the form's logic skips it here, or it was not recorded."""
    return "not-performed" if f.not_assessed else "not-applicable" if not f.required else "unknown"


_ANSWER_KEYS = {"boolean": "valueBoolean", "string": "valueString", "integer": "valueInteger", "date": "valueDate"}


def _code(*codes: tuple[str, str]) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code, "display": display} for code, display in codes],
            "text": codes[0][1]}


def _component(code: tuple[str, str], value: float, ucum: str, unit: str) -> dict[str, Any]:
    return {"code": _code(code), "valueQuantity": _quantity(value, ucum, unit)}


def _quantity(value: float, ucum: str, unit: str) -> dict[str, Any]:
    return {"value": int(value) if float(value).is_integer() else value, "unit": unit, "system": UCUM, "code": ucum}


def _entry(full_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": full_url, "resource": {"id": full_url.rsplit(":", 1)[1], **resource}}


def _token(text: str) -> str:
    """A site name as a URN segment."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", text) or "site"


def _uuid(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts))


def _urn(*parts: object) -> str:
    return f"urn:uuid:{_uuid(*parts)}"


def _instant(record: SessionRecord, offset_s: float) -> str:
    return record.utc(offset_s).isoformat(timespec="milliseconds").replace("+00:00", "Z")
