"""Hypothesis strategies for what devices send: HL7 messages (well formed, mangled, arbitrary bytes), MLLP streams,
SunTech replies, Nonin frames, with noise. Shared by the suite's short profile and bench/fuzz_devices.py."""
from __future__ import annotations

from hypothesis import strategies as st

from devices.serial import nonin, suntech

CODES = [
    "150021^MDC_PRESS_BLD_NONINV_SYS^MDC", "150022^MDC_PRESS_BLD_NONINV_DIA^MDC", "150023^MDC_PRESS_BLD_NONINV_MEAN^MDC",
    "150301^MDC_PRESS_CUFF_SYS^MDC", "150302^MDC_PRESS_CUFF_DIA^MDC", "150303^MDC_PRESS_CUFF_MEAN^MDC",
    "149546^MDC_PULS_RATE_NON_INV^MDC", "149530^MDC_PULS_OXIM_PULS_RATE^MDC", "149522^MDC_PULS_RATE^MDC",
    "147842^MDC_ECG_HEART_RATE^MDC", "150456^MDC_PULS_OXIM_SAT_O2^MDC", "150456^MDC_CO2_ET^MDC",
    "150017^MDC_PRESS_BLD_NONINV_SYS^MDC", "150457^MDC_PULS_OXIM_PULS_RATE^MDC", "150364^MDC_TEMP_BODY^MDC",
    "0002-4a05^NBPs^MDIL", "0002-480a^Pulse^MDIL", "0002-4bb8^SpO2^MDIL", "8480-6^SBP^LN", "8867-4^HR^LN",
    "NIBP^NIBP^WAP", "Heart Rate^Heart Rate^WAP", "HR^^L", "69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC", "", "^^^",
]
VALUES = ["128", "82", "97", "72", "-999", "-100", "-1", "8388607", "8388608", "2047", "0", "321", "1e3", "NaN", "inf",
          "", "12a8", "97^96", "72~73", "=^80", "<^5", "\\", "9" * 40, "0.5", ".5", "+7", "é", "²"]
UNITS = ["266016^MDC_DIM_MMHG^MDC", "264864^MDC_DIM_BEAT_PER_MIN^MDC", "262688^MDC_DIM_PERCENT^MDC", "mm[Hg]", "kPa",
         "^BPM", "%", "0004-0f20^mmHg^MDIL", "cmH2O", "m²", "", "^^^"]
STATUSES = ["", "R", "F", "X", "D", "W", "N", "I", "C", "?", "RR"]
FLAGS = ["", "DEMO", "TEST", "NAV", "OFF", "?", "INV", "H~L", "NA^NI"]
TYPES = ["NM", "ST", "SN", "NA", "MA", "CWE", "TX", "", "XX"]
SUB_IDS = ["1.1.1.1", "1.2.1.1", "1.3.1.150456", "1.0.0.2", "SYS", "DIA", "MEAN", "1", "", "1.x.2", "9.9.9.9.9"]
TIMES = ["20250610091500+0000", "20250610091500", "202506100915", "20250610091500.1234-0030", "2025", "tomorrow",
         "20260124131540000+0800", "99999999999999", ""]
MSH9 = ["ORU^R01^ORU_R01", "ORU^R01", "ADT^A01", "ORU^W01", "", "ORU"]
VERSIONS = ["2.6", "2.5.1", "2.3", "2.4", "9.9", ""]

text = st.text(max_size=12)
pick = st.sampled_from


def field(pool: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(pick(pool), text)


# OBX rows as real monitors send them (with a code, value, unit, status and time of each kind); a drawn row then
# has up to two of its fields replaced by anything from the pools or arbitrary text
ROWS = [f"OBX|1|{t}|{c}|{i}|{v}|{u}|||||{st_}|||{tm}" for t, c, i, v, u, st_, tm in [
    ("NM", CODES[0], "1.1.1.1", "128", UNITS[0], "R", TIMES[0]), ("NM", CODES[1], "1.1.1.2", "82", UNITS[0], "R", ""),
    ("NM", CODES[3], "1.1.9.150301", "-999", UNITS[0], "", TIMES[1]), ("NM", CODES[7], "1.3.1.149530", "65", UNITS[1],
    "R", TIMES[3]), ("NM", CODES[10], "1.3.1.150456", "8388607", UNITS[2], "X", ""), ("ST", CODES[21], "", "80",
    "^BPM", "", TIMES[0]), ("NM", CODES[15], "", "122", UNITS[7], "F", ""), ("NA", CODES[10], "1.3.1.1", "97^96",
    UNITS[2], "R", ""), ("NM", CODES[11], "1.7.1.1", "35", UNITS[0], "R", ""), ("", CODES[23], "1.0.0.0", "", "", "X",
    ""), ("NM", CODES[20], "SYS", "120", "mmHg", "F", TIMES[6]), ("SN", CODES[9], "1.5.1.1", "=^72", UNITS[1], "R", "")]]
POOL = VALUES + CODES + UNITS + STATUSES + FLAGS + TYPES + SUB_IDS + TIMES


def _damaged(row: str, changes: list[tuple[int, str]]) -> str:
    fields = row.split("|")
    for at, value in changes:
        fields += [""] * (at + 1 - len(fields))
        fields[at] = value
    return "|".join(fields)


obx = st.builds(_damaged, pick(ROWS), st.lists(st.tuples(st.integers(1, 18), field(POOL)), max_size=2))


@st.composite
def hl7_message(draw: st.DrawFn) -> bytes:
    """A PCD-01-like message: MSH with drawn key fields, optional PID/PV1, OBR groups of OBX rows, drawn line ends."""
    msh = (f"MSH|^~\\&|{draw(pick(['VSM^0123456789ABCDEF^EUI-64', '^EfficiaCM', '']))}|CLINIC|||{draw(pick(TIMES))}"
           f"||{draw(pick(MSH9))}|{draw(field(['MSG1', '1', '']))}|{draw(pick(['P', 'T', 'D']))}|{draw(pick(VERSIONS))}")
    segments = [msh, draw(pick(["", "PID|||MRN1||DOE^JANE", "PV1||O|CHAIR3^^^CLINIC_A", "PV1||I|^^&24"]))]
    for _ in range(draw(st.integers(0, 2))):
        segments.append(draw(pick(["", "OBR|1|||x|||20250610091500+0000", "OBR|1|||x|||tomorrow"])))
        segments += draw(st.lists(obx, max_size=5))
    end = draw(pick(["\r", "\n", "\r\n", "\r\r", "\r\n\r\n"]))
    data = end.join(s for s in segments if s) + draw(pick(["", end]))
    return data.encode(draw(pick(["utf-8", "latin-1"])), "replace")


hl7_inputs = st.one_of(hl7_message(), st.binary(max_size=600), st.binary(max_size=300).map(lambda b: b"MSH|^~\\&|" + b))

# MLLP: message bodies cannot contain the framing bytes
mllp_body = st.binary(max_size=200).map(lambda b: b.replace(b"\x0b", b"").replace(b"\x1c", b""))
noise_outside_frames = st.binary(max_size=20).map(lambda b: b.replace(b"\x0b", b""))


def chunked(data: bytes, sizes: list[int]) -> list[bytes]:
    """`data` cut into pieces of the drawn sizes (cycled): how TCP or a serial port might deliver it."""
    out, at, i = [], 0, 0
    while at < len(data):
        size = sizes[i % len(sizes)] if sizes else len(data)
        out.append(data[at:at + size])
        at, i = at + size, i + 1
    return out


chunk_sizes = st.lists(st.integers(1, 97), min_size=1, max_size=8)

# SunTech replies and Nonin frames
suntech_reply = st.one_of(
    st.builds(lambda p: suntech.reply(p.to_bytes(2, "little")), st.integers(0, 300)),
    st.just(suntech.reply(b"\x4b")),
    st.builds(suntech.bp_data_frame, st.integers(0, 300), st.integers(0, 300), st.integers(0, 300),
              st.integers(0, 255), st.integers(0, 255)),
)
suntech_noise = st.binary(max_size=40).map(lambda b: b.replace(b">", b""))  # noise that starts no reply
valid_hr = st.one_of(st.integers(0, nonin.MAX_HR), st.just(nonin.NO_HR))
valid_spo2 = st.one_of(st.integers(0, 100), st.just(nonin.NO_SPO2))
df8_frame = st.builds(nonin.encode, valid_hr, valid_spo2, st.integers(0, 0x7C), st.integers(0, 0x7F))
df7_packet = st.tuples(valid_hr, valid_spo2, st.integers(0, 0x7E), st.integers(0, 0x7F)).map(
    lambda t: (t[0], t[1], nonin.df7_packet(*t)))  # (hr, spo2, the packet's bytes)
low_noise = st.binary(max_size=60).map(lambda b: bytes(x & 0x7F for x in b))  # no byte can start a frame
