"""HL7 ORU^R01 parsing (pure): the PCD-01 example, vendor code forms, units, no-value rules, time, framing, ACKs."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from devices.errors import HL7Error
from devices.hl7 import Discarded, MllpReader, build_ack, frame, parse_oru, parse_timestamp
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
    [bp], continuous = bp_and_continuous(text)
    assert (bp.sbp, bp.dbp, bp.map, bp.hr) == (140, 90, 107, None)
    assert sorted((r.source, r.spo2, r.hr) for r in continuous) == [("monitor ecg", None, 66),
                                                                   ("monitor spo2", 95, None)]


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
    (EXAMPLE.replace("|P|2.6|", "|P|3.0|"), "AR", 203),  # 2.1-2.8 are read
    (EXAMPLE.replace("|MSG000123|P|", "||P|"), "AR", 101),
    ("hello, world", "AR", 101),
    (HEAD + "OBX|1|NM|150364^MDC_TEMP_BODY^MDC|1.3.1.1|36.8|268192^MDC_DIM_DEGC^MDC|||||R", "AE", 101),
    (HEAD, "AE", 101),
])
def test_unusable_messages_raise_with_the_ack_code_and_why(text, ack, code):
    with pytest.raises(HL7Error) as raised:
        parse_oru(text.encode(), UTC)
    assert (raised.value.ack, raised.value.code) == (ack, code) and raised.value.reason
    assert "Error" not in raised.value.reason  # words, never an exception's name


@pytest.mark.parametrize("value, reason", [
    ("12a8", "not-a-number"), ("NaN", "not-a-number"), ("inf", "not-a-number"), ("1e3", "not-a-number"),
    ("-999", "sentinel"), ("-100", "sentinel"), ("-1", "sentinel"), ("8388607", "sentinel"), ("8388608", "sentinel"),
    ("8388606", "sentinel"), ("8388610", "sentinel"), ("2047", "sentinel"), ("2048", "sentinel"),
    ("", "empty"), ("128~129", "array"), ("128^129", "array"),
])
def test_a_vital_sent_as_no_value_is_discarded_with_its_reason(value, reason):
    message = parse_oru(EXAMPLE.replace("|128|", f"|{value}|").encode(), UTC)
    assert message.discarded[0] == Discarded("150021^MDC_PRESS_BLD_NONINV_SYS", value, reason)
    assert not any(r.sbp is not None for r in message.readings(0.0))


@pytest.mark.parametrize("status", ["D", "W", "X", "N", "I", "O"])
def test_a_status_without_a_valid_result_is_no_value(status):
    row = "OBX|6|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||R"
    message = parse_oru(EXAMPLE.replace(row, row[:-1] + status).encode(), UTC)
    assert [d.reason for d in message.discarded] == ["status"]
    assert all(r.spo2 is None for r in message.readings(0.0))


@pytest.mark.parametrize("flag", ["NAV", "OFF", "NAN", "PINF", "NINF", "?", "INV", "NI~NA"])
def test_an_obx8_null_flavour_is_no_value(flag):
    row = "OBX|6|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||R"
    flagged = row.replace("|||||R", f"||{flag}|||R")
    message = parse_oru(EXAMPLE.replace(row, flagged).encode(), UTC)
    assert [d.reason for d in message.discarded] == ["flag"]


def test_a_welch_allyn_st_value_holding_a_number_is_read():
    text = HEAD + "OBX|1|ST|Heart Rate^Heart Rate^WAP||80|^BPM||||||||20090127093400.000-0800"
    [reading] = readings(text)
    assert (reading.source, reading.hr) == ("monitor pulse", 80)
    assert reading.device_time == dt.datetime(2009, 1, 27, 17, 34, tzinfo=UTC).timestamp()


def test_a_unit_of_another_kind_is_discarded_not_converted():
    message = parse_oru(EXAMPLE.replace("|128|266016^MDC_DIM_MMHG^MDC|", "|128|cmH2O|").encode(), UTC)
    assert message.discarded[0].reason == "unit"


def test_a_bad_timestamp_is_ignored_and_noticed_not_fatal():
    message = parse_oru(EXAMPLE.replace("|20250610091500+0000\rOBX|1|", "|tomorrow\rOBX|1|").encode(), UTC)
    assert [n.kind for n in message.notices] == ["timestamp"]
    assert len(message.readings(0.0)) == 2


@pytest.mark.parametrize("code, unit, expected", [
    ("150301^MDC_PRESS_CUFF_SYS^MDC", "266016^MDC_DIM_MMHG^MDC", "sbp"),  # cuff codes (Mindray, Comen)
    ("150017^MDC_PRESS_BLD_NONINV_SYS^MDC", "266016^MDC_DIM_MMHG^MDC", "sbp"),  # number not ours, name is, unit fits
    ("150456^MDC_CO2_ET^MDC", "266016^MDC_DIM_MMHG^MDC", "code-conflict"),  # number says SpO2, name says CO2
    ("150021^MDC_PRESS_BLD_ART_SYS^MDC", "266016^MDC_DIM_MMHG^MDC", "code-conflict"),  # cuff vs arterial line
    ("147842^MDC_PULS_RATE^MDC", "264864^MDC_DIM_BEAT_PER_MIN^MDC", "code-conflict"),  # ECG vs pulse
    ("150017^MDC_PRESS_BLD_NONINV_SYS^MDC", "264864^MDC_DIM_BEAT_PER_MIN^MDC", "code-conflict"),  # unit does not fit
])
def test_a_code_and_its_name_that_disagree_follow_the_documented_rule(code, unit, expected):
    text = HEAD + f"OBX|1|NM|{code}|1.1.9.1|120|{unit}|||||R"
    message = parse_oru(text.encode(), UTC)
    if expected == "code-conflict":
        assert [d.reason for d in message.discarded] == ["code-conflict"]
        assert [n.kind for n in message.notices] == ["code-conflict"]
    else:
        assert message.groups[0].observations[0].quantity.key == expected


def test_ecg_heart_rate_and_oximeter_pulse_are_both_kept_with_their_source():
    text = HEAD + "\r".join([
        "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.7.4.147842|66|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
        "OBX|2|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.3.1.149530|65|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
        "OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|98|262688^MDC_DIM_PERCENT^MDC|||||R",
        "OBX|4|NM|149522^MDC_BLD_PULS_RATE_INV^MDC|1.13.1.4|80|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
    ])
    assert sorted((r.source, r.hr, r.spo2) for r in readings(text)) == [
        ("monitor ecg", 66, None), ("monitor pulse", 80, None), ("monitor spo2", 65, 98)]


def test_a_pulse_named_as_derived_from_spo2_goes_with_the_oximeter():
    text = HEAD + "\r".join([  # Philips Efficia: OBX-17 names the measurement the pulse comes from
        "OBX||NM|0002-4bb8^SpO2^MDIL||98|0004-0220^%^MDIL|||||F",
        "OBX||NM|0002-4a05^NBPs^MDIL||122|0004-0f20^mmHg^MDIL|||||F",
        "OBX||NM|0002-4a06^NBPd^MDIL||85|0004-0f20^mmHg^MDIL|||||F",
        "OBX||NM|0002-480a^Pulse^MDIL||80|0004-0aa0^bpm^MDIL|||||F||||||0002-4bb8^SpO2^MDIL",
    ])
    assert sorted((r.source, r.sbp, r.hr, r.spo2) for r in readings(text)) == [
        ("monitor nibp", 122, None, None), ("monitor spo2", None, 80, 98)]


def test_the_device_rows_obx18_is_carried_down_to_the_values_beneath():
    text = "\r".join([  # Continua-style gateway (LinkWatch): EUI-64 on the device row only, no PID, no PV1
        "MSH|^~\\&|LinkWatchAndroid||||20170503120000+0200||ORU^R01^ORU_R01|3230|P|2.6|||NE|AL",
        "OBR|1|||182777000^monitoring of patient^SNOMED-CT|||20170503120000+0200",
        "OBX|1||528391^MDC_DEV_SPEC_PROFILE_BP^MDC|1|||||||X|||||||5C313EFFFE020E12^EUI64",
        "OBX|2|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.0.1.1|125|266016^MDC_DIM_MMHG^MDC|||||R",
        "OBX|3|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.0.1.2|80|266016^MDC_DIM_MMHG^MDC|||||R",
        "OBX|4|NM|149546^MDC_PULS_RATE_NON_INV^MDC|1.0.0.2|66|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
    ])
    message = parse_oru(text.encode(), UTC)
    [bp] = message.readings(0.0)
    assert (bp.sbp, bp.dbp, bp.hr, bp.device_id) == (125, 80, 66, "5C313EFFFE020E12")
    assert message.device_ids == ("5C313EFFFE020E12",) and (message.location, message.mrn) == ("", "")


def test_demo_and_test_data_are_marked():
    demo = EXAMPLE.replace("|97|262688^MDC_DIM_PERCENT^MDC|||||R", "|97|262688^MDC_DIM_PERCENT^MDC||DEMO|||R")
    message = parse_oru(demo.encode(), UTC)
    assert not message.is_test
    assert sorted((r.source, r.provenance) for r in message.readings(0.0)) == [
        ("monitor nibp", "device"), ("monitor spo2", "demo")]
    training = parse_oru(EXAMPLE.replace("|MSG000123|P|", "|MSG000123|T|").encode(), UTC)
    assert training.is_test and {r.provenance for r in training.readings(0.0)} == {"demo"}


def test_sender_identity_and_resend_key():
    message = parse_oru(EXAMPLE.encode(), UTC)
    assert (message.sender, message.sender_eui64, message.sender_facility) == (
        "VSM^0123456789ABCDEF^EUI-64", "0123456789ABCDEF", "CLINIC_A")
    resent = parse_oru(EXAMPLE.replace("20250610091512+0000", "20250610091612+0000").encode(), UTC)
    assert resent.resend_key == message.resend_key  # a resend may renew MSH-7
    other_monitor = parse_oru(EXAMPLE.replace("0123456789ABCDEF^EUI-64|", "0123456789ABCDEE^EUI-64|").encode(), UTC)
    new_reading = parse_oru(EXAMPLE.replace("|97|262688", "|96|262688").encode(), UTC)
    keys = {message.resend_key, other_monitor.resend_key, new_reading.resend_key}
    assert len(keys) == 3 and all("|MSG000123|" in key for key in keys)


def test_msh7_tells_apart_reports_that_carry_no_other_time():
    text = "\r".join(EXAMPLE.split("\r")[:3]) + "\rOBR|1|||x\rOBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|%|||||R"
    later = text.replace("20250610091512+0000", "20250610091612+0000")
    assert parse_oru(text.encode(), UTC).resend_key != parse_oru(later.encode(), UTC).resend_key


@pytest.mark.parametrize("raw", [
    EXAMPLE.replace("\r", "\r\n\r\n").encode(),  # CRLF and blank lines between segments
    "\ufeff".encode() + EXAMPLE.replace("DOE^JANE", "ИВАНОВА^ЕЛЕНА").encode(),  # BOM, UTF-8 Cyrillic name
    EXAMPLE.replace("DOE^JANE", "MÜLLER^JOSÉ").encode("latin-1"),  # Latin-1 bytes
    EXAMPLE.replace("MDC_DIM_PERCENT^MDC", "%^UCUM").replace("266016^MDC_DIM_MMHG^MDC", "mm[Hg]^mm²").encode(),
])
def test_line_ends_and_character_sets_never_fail(raw):
    message = parse_oru(raw, UTC)
    assert sorted((r.source, r.sbp, r.spo2) for r in message.readings(0.0)) == [
        ("monitor nibp", 128, None), ("monitor spo2", None, 97)]


def test_an_unknown_code_is_kept_raw_not_guessed():
    text = EXAMPLE + "OBX|7|NM|150364^MDC_TEMP_BODY^MDC|1.3.1.1|36.8|268192^MDC_DIM_DEGC^MDC|||||R\r"
    message = parse_oru(text.encode(), UTC)
    [raw] = message.unknown
    assert (raw.code, raw.value, raw.sub_id) == ("150364^MDC_TEMP_BODY", "36.8", "1.3.1.1")
    assert len(message.readings(0.0)) == 2 and message.discarded == ()


@pytest.mark.parametrize("junk", [b"", b"\x00\xff\xfe", b"MSH", b"MSH|", b"MSH|^~\\&", "MSH|^~\\&|\u00e9|".encode("latin-1"),
                                  b"MSH|^~\\&|a|b|c|d|e||ORU^R01|1|P|2.6\rOBX|1|NM|150021|\x00|\x1c|"])
def test_garbage_raises_hl7error_and_nothing_else(junk):
    try:
        message = parse_oru(junk, UTC)
    except HL7Error:
        return
    assert message.readings(0.0) == [] and len(message.discarded) == 1  # the SBP row: counted, not read


def test_mllp_reader_frames_and_counts_garbage_and_truncation():
    stream = b"junk" + frame("MSH|one") + b"\x0bMSH|cut" + frame("MSH|two") + frame(b"x" * 150) + frame("MSH|3")
    for chunk in (1, 2, 7, len(stream)):  # the same frames however TCP splits the bytes
        reader = MllpReader(max_bytes=100, keep_bytes=20)
        frames = []
        for at in range(0, len(stream), chunk):
            frames += reader.feed(stream[at:at + chunk])
        assert [(f.data, f.size, f.oversize) for f in frames] == [
            (b"MSH|one", 7, False), (b"MSH|two", 7, False), (b"x" * 20, 150, True), (b"MSH|3", 5, False)]
        assert frames[2].digest == hashlib.sha256(b"x" * 150).hexdigest()
        assert reader.stats.garbage_bytes == 4 and reader.stats.truncated == 1 and reader.stats.oversize == 1
        assert reader.take_garbled() == [b"MSH|cut"]


def test_mllp_size_limit_is_on_the_message_exactly():
    reader = MllpReader(max_bytes=10)
    frames = reader.feed(frame(b"a" * 10)[:-1]) + reader.feed(b"\x0d") + reader.feed(frame(b"b" * 11))
    assert [(f.size, f.oversize) for f in frames] == [(10, False), (11, True)]


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



def test_mllp_a_frame_cut_short_keeps_the_same_head_however_split():
    stream = b"\x00\x00\x00\x0b" + b"abcdef" + frame("MSH|next")
    for chunk in (1, 2, 3, len(stream)):  # found by tests/fuzz: a cut-short oversize frame lost its last bytes
        reader = MllpReader(max_bytes=2, keep_bytes=64)
        frames = [f for at in range(0, len(stream), chunk) for f in reader.feed(stream[at:at + chunk])]
        assert reader.take_garbled() == [b"abcdef"] and [f.data for f in frames] == [b"MSH|next"[:64]]
