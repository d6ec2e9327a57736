"""Our alarm codes in IEEE 11073-10101 (MDC) terms, for the alarms we forward (IHE PCD-04, alarm_report.py).

One table, so a reader checks every mapping in one place. Each of our codes names the MDC event it is reported as
(OBX-3 of the event row) and the metric whose value raised it (the source row, with its unit), where it has one.

Sources for the numbers (event partition 3 = 196608 + term code; metrics partition 2; units partition 4):
- MDC_EVT_HI_VAL_GT_LIM 196652 / MDC_EVT_LO_VAL_LT_LIM 196674: the limit alarms on a measured value, as IHE PCD
  TF-2 (PCD-04 Report Alert, the event identification row) and a public Masimo Patient SafetyNet PCD-04 sample
  (`196674^MDC_EVT_LO_VAL_LT_LIM^MDC` over `150456^MDC_PULS_OXIM_SAT_O2^MDC`) use them; MDC_EVT_HI_GT_LIM 196650 /
  MDC_EVT_LO_LT_LIM 196672 (public SDC nomenclature constants) place them at term codes 42/64, the *_VAL_* forms at
  44/66.
- MDC_EVT_SENSOR_DISCONN 196916 (the partition 3 table of a public Bluetooth GHS server); MDC_EVT_NOS 258047 ("not otherwise specified": the text row then says what it is; public SDC
  nomenclature constants).
- Metrics and units as docs/devices.md (the PCD-01 table): 150021/150022 NIBP systolic/diastolic, 149514
  MDC_PULS_RATE (our HR does not say whether it came from an ECG or a pulse), 150456 SpO2; 266016 mmHg,
  264864 beats/min, 262688 %.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True, slots=True)
class Coded:
    code: int
    name: str

    @property
    def cwe(self) -> str:
        return f"{self.code}^{self.name}^MDC"


@dataclass(frozen=True, slots=True)
class Metric:
    """A measured quantity: its MDC code, its unit, and which part of our alarm value it is."""

    coded: Coded
    unit: Coded
    part: int = 0  # BP values are "SYS/DIA": 0 = systolic, 1 = diastolic


@dataclass(frozen=True, slots=True)
class EventCode:
    event: Coded
    metrics: tuple[Metric, ...] = ()
    abnormal: str = ""  # OBX-8's abnormality flag: H above a limit, L below; none for a technical alarm


HI_VAL = Coded(196652, "MDC_EVT_HI_VAL_GT_LIM")
LO_VAL = Coded(196674, "MDC_EVT_LO_VAL_LT_LIM")
SENSOR_DISCONN = Coded(196916, "MDC_EVT_SENSOR_DISCONN")
NOS = Coded(258047, "MDC_EVT_NOS")

MMHG = Coded(266016, "MDC_DIM_MMHG")
BPM = Coded(264864, "MDC_DIM_BEAT_PER_MIN")
PERCENT = Coded(262688, "MDC_DIM_PERCENT")
NIBP = (Metric(Coded(150021, "MDC_PRESS_BLD_NONINV_SYS"), MMHG, 0),
        Metric(Coded(150022, "MDC_PRESS_BLD_NONINV_DIA"), MMHG, 1))
PULSE = (Metric(Coded(149514, "MDC_PULS_RATE"), BPM),)
SPO2 = (Metric(Coded(150456, "MDC_PULS_OXIM_SAT_O2"), PERCENT),)

EVENTS: Mapping[str, EventCode] = MappingProxyType({
    "bp.severe": EventCode(HI_VAL, NIBP, "H"),
    "bp.high": EventCode(HI_VAL, NIBP, "H"),
    "bp.predose_high": EventCode(HI_VAL, NIBP, "H"),
    "bp.rise": EventCode(HI_VAL, NIBP, "H"),  # above the limit the baseline sets
    "hr.high": EventCode(HI_VAL, PULSE, "H"),
    "hr.low": EventCode(LO_VAL, PULSE, "L"),
    "spo2.low": EventCode(LO_VAL, SPO2, "L"),
    "device.disconnected": EventCode(SENSOR_DISCONN),  # the monitor or sensor no longer reaches us
    "nibp.failed": EventCode(NOS),  # the module's error code says why (leak, motion, timeout): in the text
    "data.stale": EventCode(NOS),  # no fresh reading: not a sensor fault the device reported
    "reading.implausible": EventCode(NOS),
    "spo2.unmonitored": EventCode(NOS),  # no SpO2 source and no manual check: a monitoring gap, the text says so
})
OTHER = EventCode(NOS)  # a technical alarm of the system itself (forwarding, coverage): the text says what


def event_code(code: str) -> EventCode:
    return EVENTS.get(code, OTHER)
