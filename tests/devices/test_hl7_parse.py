"""HL7 ORU^R01 parsing (pure): the PROTOCOLS.md example, vendor code forms, units, time, framing, ACKs."""
from __future__ import annotations

import datetime as dt

import pytest

from devices.errors import HL7Error
from devices.hl7 import MllpReader, build_ack, frame, parse_oru, parse_timestamp
from devices.hl7.codes import SBP, mdil_to_mdc

UTC = dt.timezone.utc
EXAMPLE = "\r".join([
    r"MSH|^~\&|VSM^0123456789ABCDEF^EUI-64|CLINIC_A|DASH|CLINIC_A|20250610091512+0000||ORU^R01^ORU_R01|MSG000123|P|2.6|||NE|AL||UNICODE UTF-8|||PCD_DEC_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",  # noqa: E501
    "PID|||MRN12345^^^CLINIC_A^MR||DOE^JANE^^^^^L||19700101|F",
    "PV1||O|CHAIR3^^^CLINIC_A",
    "OBR|1|MSG000123^VSM^0123456789ABCDEF^EUI-64|MSG000123^VSM^0123456789ABCDEF^EUI-64|182777000^monitoring of patient^SCT|||20250610091500+0000",  # noqa: E501
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||0123456789ABCDEF^EUI-64",
    "OBX|2|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.1|128|266016^MDC_DIM_MMHG^MDC|||||R|||20250610091500+0000",
    "OBX|3|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.1.1.2|82|266016^MDC_DIM_MMHG^MDC|||||R|||20250610091500+0000",
    "OBX|4|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.1.1.3|97|266016^MDC_DIM_MMHG^MDC|||||R|||20250610091500+0000",
    "OBX|5|NM|149546^MDC_PULS_RATE_NON_INV^MDC|1.1.1.4|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||20250610091500+0000",
    "OBX|6|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||R|||20250610091500+0000",
]) + "\r"
HEAD = "\r".join(EXAMPLE.split("\r")[:4]) + "\r"


def readings(text: str, received: float = 2e9):
    return parse_oru(text.encode(), UTC).readings(received)


def bp_and_continuous(text: str):
    out = readings(text)
    bp = [r for r in out if r.has_bp]
    rest = [r for r in out if not r.has_bp]
    return bp, rest


def test_the_example_message_is_128_82_97_hr_72_spo2_97_at_chair3():
    message = parse_oru(EXAMPLE.encode(), UTC)
    assert (message.control_id, message.location, message.mrn, message.version) == ("MSG000123", "CHAIR3",
                                                                                    "MRN12345", "2.6")
    [bp], [oximetry] = bp_and_continuous(EXAMPLE)
    assert (bp.sbp, bp.dbp, bp.map, bp.hr) == (128, 82, 97, 72)  # the pulse of the NIBP channel 1.1.1
    assert (oximetry.spo2, oximetry.hr) == (97, None)
    assert bp.device_time == dt.datetime(2025, 6, 10, 9, 15, tzinfo=UTC).timestamp()
    assert bp.received_time == oximetry.received_time == 2e9


def test_philips_mdil_codes_map_onto_mdc_by_arithmetic():
    assert mdil_to_mdc("0002-4a05") == 2 * 65536 + 0x4A05 == 150021
    assert mdil_to_mdc("0002-4A06") == 150022 and mdil_to_mdc("0004-0f20") == 266016
    assert mdil_to_mdc("8480-6") is None
    text = HEAD + "\r".join([
        "OBX|1|NM|0002-4a05^NBPs^MDIL|1.1.1.1|131|0004-0f20^mmHg^MDIL|||||F",
        "OBX|2|NM|0002-4a06^NBPd^MDIL|1.1.1.2|85|0004-0f20^mmHg^MDIL|||||F",
        "OBX|3|NM|0002-4a07^NBPm^MDIL|1.1.1.3|100|mmHg|||||F",
    ])
    [bp], [] = bp_and_continuous(text)
    assert (bp.sbp, bp.dbp, bp.map) == (131, 85, 100)


def test_kpa_pressures_are_converted_to_mmhg():
    text = HEAD + "\r".join([
        "OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.1|17.1|265987^MDC_DIM_KILO_PASCAL^MDC|||||R",
        "OBX|2|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.1.1.2|10.9|kPa|||||R",
    ])
    [bp], [] = bp_and_continuous(text)
    assert (bp.sbp, bp.dbp) == (round(17.1 * 7.50062), round(10.9 * 7.50062)) == (128, 82)


def test_loinc_and_local_tags_in_obx3_or_obx4():
    text = HEAD + "\r".join([
        "OBX|1|NM|8480-6^Systolic^LN||140|mm[Hg]|||||F",
        "OBX|2|NM|NIBP^Vital signs^L|DIA|90|mmHg|||||F",
        "OBX|3|NM|MEAN^^L||107|mmHg|||||F",
        "OBX|4|NM|59408-5^SpO2^LN||95|%|||||F",
        "OBX|5|NM|HR^^L||66|{beat}/min|||||F",
    ])
    [bp], [cont] = bp_and_continuous(text)
    assert (bp.sbp, bp.dbp, bp.map, bp.hr) == (140, 90, 107, None)
    assert (cont.spo2, cont.hr) == (95, 66)


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
def test_segment_ends_may_be_cr_lf_or_crlf(end):
    [bp], [cont] = bp_and_continuous(EXAMPLE.replace("\r", end))
    assert (bp.sbp, cont.spo2) == (128, 97)


def test_several_obr_groups_each_give_their_readings_with_their_spacing():
    group = ("OBR|{n}|X^{n}|X^{n}|182777000^monitoring of patient^SCT|||2025061009{mm}00+0000\r"
             "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|{spo2}|%|||||R|||2025061009{mm}00+0000")
    text = HEAD.rsplit("OBR", 1)[0] + "\r".join(group.format(n=n, mm=mm, spo2=spo2)
                                                for n, mm, spo2 in ((1, "15", 97), (2, "16", 96), (3, "17", 95)))
    out = readings(text, received=1000.0)
    assert [r.spo2 for r in out] == [97, 96, 95]
    # the device's spacing inside one message is kept; the newest is 'now'
    assert [r.received_time for r in out] == [880.0, 940.0, 1000.0]


def test_timestamps_with_or_without_zone():
    amsterdam = dt.timezone(dt.timedelta(hours=2))
    assert parse_timestamp("20250610091500+0000", amsterdam) == dt.datetime(2025, 6, 10, 9, 15, tzinfo=UTC).timestamp()
    assert parse_timestamp("202506100915", amsterdam) == dt.datetime(2025, 6, 10, 7, 15, tzinfo=UTC).timestamp()
    assert parse_timestamp("20250610091500.25-0030", UTC) == dt.datetime(
        2025, 6, 10, 9, 45, tzinfo=UTC).timestamp() + 0.25
    with pytest.raises(ValueError):
        parse_timestamp("2025-06-10", UTC)


@pytest.mark.parametrize("text, ack, code", [
    (EXAMPLE.replace("ORU^R01^ORU_R01", "ADT^A01^ADT_A01"), "AR", 200),
    (EXAMPLE.replace("|P|2.6|", "|P|2.1|"), "AR", 203),
    (EXAMPLE.replace("|MSG000123|P|", "||P|"), "AR", 101),
    ("hello, world", "AR", 101),
    (EXAMPLE.replace("|128|", "|12a8|"), "AE", 102),
    (EXAMPLE.replace("|128|", "|NaN|"), "AE", 102),  # float() would take it: no measurement is NaN
    (EXAMPLE.replace("|128|", "|inf|"), "AE", 102),
    (EXAMPLE.replace("|128|266016^MDC_DIM_MMHG^MDC|", "|128|cmH2O|"), "AE", 103),
    (EXAMPLE.replace("|20250610091500+0000\rOBX|1|", "|tomorrow\rOBX|1|"), "AE", 102),
    (HEAD + "OBX|1|NM|150364^MDC_TEMP_BODY^MDC|1.3.1.1|36.8|268192^MDC_DIM_DEGC^MDC|||||R", "AE", 101),
])
def test_unusable_messages_raise_with_the_ack_code_and_why(text, ack, code):
    with pytest.raises(HL7Error) as raised:
        parse_oru(text.encode(), UTC)
    assert (raised.value.ack, raised.value.code) == (ack, code) and raised.value.reason


def test_an_unknown_code_is_kept_raw_not_guessed():
    text = EXAMPLE + "OBX|7|NM|150364^MDC_TEMP_BODY^MDC|1.3.1.1|36.8|268192^MDC_DIM_DEGC^MDC|||||R\r"
    message = parse_oru(text.encode(), UTC)
    [raw] = message.unknown
    assert (raw.code, raw.value, raw.sub_id) == ("150364^MDC_TEMP_BODY", "36.8", "1.3.1.1")
    assert len(message.readings(0.0)) == 2


@pytest.mark.parametrize("junk", [b"", b"\x00\xff\xfe", b"MSH", b"MSH|", b"MSH|^~\\&", "MSH|^~\\&|\u00e9|".encode("latin-1"),
                                  b"MSH|^~\\&|a|b|c|d|e||ORU^R01|1|P|2.6\rOBX|1|NM|150021|\x00|\x1c|"])
def test_garbage_raises_hl7error_and_nothing_else(junk):
    with pytest.raises(HL7Error):
        parse_oru(junk, UTC)


def test_mllp_reader_frames_and_counts_garbage_and_truncation():
    reader = MllpReader(max_bytes=100)
    stream = b"junk" + frame("MSH|one") + b"\x0bMSH|cut" + frame("MSH|two") + b"\x0b" + b"x" * 150 + frame("MSH|3")
    messages = []
    for at in range(0, len(stream), 7):
        messages += reader.feed(stream[at:at + 7])
    assert messages == [b"MSH|one", b"MSH|two", b"MSH|3"]
    assert reader.stats.garbage_bytes >= 4 and reader.stats.truncated == 2
    assert reader.take_garbled()[0] == b"MSH|cut"


def test_acks_answer_the_control_id_and_say_why():
    aa = build_ack("AA", "MSG000123", application="DASH", facility="CLINIC_A", their_application="VSM")
    segments = aa.rstrip("\r").split("\r")
    assert segments[0].startswith("MSH|^~\\&|DASH|CLINIC_A|VSM|") and "|ACK^R01^ACK|" in segments[0]
    assert segments[0].endswith("|P|2.6") and segments[1] == "MSA|AA|MSG000123" and len(segments) == 2
    ae = build_ack("AE", "M1", application="DASH", facility="", reason="unit 'cm|H2O' unknown", error_code=103,
                   where="OBX^2^6")
    err = ae.rstrip("\r").split("\r")[2]
    assert err.startswith("ERR||OBX^2^6|103^Table value not found^HL70357|E|") and "cm\\F\\H2O" in err


def test_quantity_table_is_data():
    assert SBP.is_bp and SBP.dimension == "pressure"


def test_placement_ties_a_message_to_a_chair_by_pv1_3_then_pid_3():
    from devices.hl7 import Placement

    placement = Placement(locations={"CHAIR3": "Chair 3"}, patients={"MRN12345": "Chair 3", "MRN9": "Chair 4"})
    message = parse_oru(EXAMPLE.encode(), UTC)
    assert placement.place(message) == ("Chair 3", "hl7 CHAIR3")
    no_location = parse_oru(EXAMPLE.replace("PV1||O|CHAIR3^^^CLINIC_A", "PV1||O|").encode(), UTC)
    assert placement.place(no_location) == ("Chair 3", "hl7 Chair 3")
    assert Placement().place(message) == ("CHAIR3", "hl7 CHAIR3")  # unmapped: the location is the chair
    elsewhere = parse_oru(EXAMPLE.replace("MRN12345", "MRN9").encode(), UTC)
    with pytest.raises(HL7Error, match="mapped to Chair 4"):
        placement.place(elsewhere)
    with pytest.raises(HL7Error, match="cannot tell the chair"):
        Placement().place(no_location)
