"""One OBR group's observations -> readings, one per measuring source. Pure.

Each reading says in its `source` which part of the monitor measured it, so a heart rate
from the ECG and a pulse rate from the oximeter or the cuff are both kept and never mixed
(the board picks which one to show by its own documented rule):

| source          | fields                        | from                                                        |
|-----------------|-------------------------------|-------------------------------------------------------------|
| `monitor nibp`  | sbp, dbp, map, hr (cuff pulse)| NIBP/cuff codes; a pulse rate in the same VMD (OBX-4 MDS.VMD)|
| `monitor spo2`  | spo2, hr (oximeter pulse)     | SpO2, MDC_PULS_OXIM_PULS_RATE; a pulse in the SpO2's VMD or  |
|                 |                               | whose OBX-17 names SpO2 (Philips)                           |
| `monitor ecg`   | hr (ECG heart rate)           | MDC_ECG_HEART_RATE, Philips HR, local tag HR                |
| `monitor pulse` | hr (pulse of another/unknown  | a pulse rate none of the above claims (arterial line,       |
|                 | origin)                       | "Heart Rate" of a monitor that does not say from what)      |

Without OBX-4 device paths, a lone pulse rate goes with the only source in its group that
measures one (the cuff when there is BP and no SpO2, the oximeter the other way round).
A BP cycle needs its systolic and diastolic: when one of them had no value, the cycle's
other BP values are discarded as `incomplete-bp`, not stored alone.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import HL7Error
from ..readings import Reading
from .codes import ECG_HR, OXIM_PULSE, SPO2, Quantity, mdil_to_mdc
from .values import Discarded

SOURCE_NIBP, SOURCE_SPO2, SOURCE_ECG, SOURCE_PULSE = "monitor nibp", "monitor spo2", "monitor ecg", "monitor pulse"
SOURCES = (SOURCE_NIBP, SOURCE_SPO2, SOURCE_ECG, SOURCE_PULSE)
APPLICATION = 207  # HL7 table 0357


@dataclass(frozen=True, slots=True)
class Observation:
    """One usable OBX: a known quantity in standard units."""

    quantity: Quantity
    value: float
    path: str  # OBX-4 dotted device path ('' when OBX-4 is not one)
    time: float | None  # OBX-14
    device_id: str  # OBX-18.1, or carried down from the device/channel row above it
    set_id: str
    code: str  # OBX-3 as sent
    value_text: str  # OBX-5 as sent
    demo: bool = False  # OBX-8 DEMO/TEST
    method: str = ""  # OBX-17 (Philips: the measurement a pulse rate was derived from)


def vmd(path: str) -> str:
    """MDS.VMD of a dotted OBX-4 path like 1.3.1.150456 ('' when OBX-4 is not one)."""
    parts = path.split(".")
    return ".".join(parts[:2]) if len(parts) >= 3 and all(p.isdigit() for p in parts) else ""


def _names_spo2(method: str) -> bool:
    code = method.split("^")[0].strip()
    return "SPO2" in method.upper() or code == "150456" or mdil_to_mdc(code) == 150456


def _source(o: Observation, bp_vmds: set[str], spo2_vmds: set[str], has_bp: bool, has_spo2: bool) -> str:
    q = o.quantity
    if q.is_bp:
        return SOURCE_NIBP
    if q is SPO2 or q is OXIM_PULSE:
        return SOURCE_SPO2
    if q is ECG_HR:
        return SOURCE_ECG
    where = vmd(o.path)
    if where and where in bp_vmds:
        return SOURCE_NIBP
    if (where and where in spo2_vmds) or _names_spo2(o.method):
        return SOURCE_SPO2
    if not where and has_bp != has_spo2:
        return SOURCE_NIBP if has_bp else SOURCE_SPO2
    return SOURCE_PULSE


def group_readings(observations: tuple[Observation, ...], group_time: float | None, default_device: str,
                   test_message: bool) -> tuple[list[Reading], list[Discarded]]:
    """The group's readings (in SOURCES order) and the BP values dropped as incomplete."""
    bp = [o for o in observations if o.quantity.is_bp]
    spo2 = [o for o in observations if o.quantity is SPO2]
    bp_vmds, spo2_vmds = {vmd(o.path) for o in bp} - {""}, {vmd(o.path) for o in spo2} - {""}
    parts: dict[str, list[Observation]] = {source: [] for source in SOURCES}
    for o in observations:
        parts[_source(o, bp_vmds, spo2_vmds, bool(bp), bool(spo2))].append(o)
    dropped: list[Discarded] = []
    fields = {o.quantity.field for o in parts[SOURCE_NIBP]}
    if fields & {"sbp", "dbp", "map"} and not {"sbp", "dbp"} <= fields:
        dropped = [Discarded(o.code, o.value_text, "incomplete-bp") for o in parts[SOURCE_NIBP] if o.quantity.is_bp]
        parts[SOURCE_NIBP] = [o for o in parts[SOURCE_NIBP] if not o.quantity.is_bp]
    readings = [_reading(source, part, group_time, default_device, test_message)
                for source, part in parts.items() if part]
    return readings, dropped


def _reading(source: str, part: list[Observation], group_time: float | None, default_device: str,
             test_message: bool) -> Reading:
    values: dict[str, float] = {}
    for o in part:
        field = o.quantity.field
        if field in values and values[field] != o.value:
            raise HL7Error(f"two different {o.quantity.label} values in one OBR group", code=APPLICATION,
                           where=f"OBX^{o.set_id}^5")
        values[field] = o.value
    times = [o.time for o in part if o.time is not None]
    device_id = next((o.device_id for o in part if o.device_id), default_device)
    demo = test_message or any(o.demo for o in part)
    return Reading(source, device_time=max(times) if times else group_time, device_id=device_id,
                   provenance="demo" if demo else "device", **values)
