"""The feed CSV contract (docs/feed-format.md): round trip, malformed rows, files that are not feeds."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from devices.feed import COLUMNS, FeedError, FeedProblem, read_feed, write_feed
from devices.readings import Reading, SessionEvent

HEADER = ",".join(COLUMNS)

SESSION = [
    SessionEvent("session_start", detail="esketamine-84", offset_s=0.0),
    Reading("nibp", sbp=132, dbp=84, map=100, hr=76, offset_s=120.0),
    Reading("oximeter", hr=78, spo2=97, offset_s=120.0),  # same instant as the BP: allowed
    SessionEvent("dose_start", detail="84 mg", offset_s=300.0),
    Reading("oximeter", hr=77.5, spo2=96, offset_s=300.25),
    Reading("nibp", sbp=141, dbp=90, offset_s=2700.5),  # no MAP or HR in this report
    SessionEvent("assessment", detail="moaas=3;dissociation=yes;resp=ok", offset_s=2710.0),
    SessionEvent("nibp_failed", detail="cuff leak, retrying", source="nibp", offset_s=3000.0),
    SessionEvent("device_disconnect", source="oximeter", offset_s=3100.0),
    SessionEvent("note", detail='patient said "feels floaty"', offset_s=3200.0),
    SessionEvent("discharge", offset_s=7800.0),
]


def test_round_trip_gives_the_same_items(tmp_path):
    path = tmp_path / "session.csv"
    assert write_feed(SESSION, path) == len(SESSION)
    feed = read_feed(path)
    assert feed.problems == []
    assert feed.items == SESSION
    assert feed.protocol == "esketamine-84"


def test_an_open_text_file_reads_like_a_path():
    buffer = io.StringIO()
    write_feed(SESSION, buffer)
    buffer.seek(0)
    assert read_feed(buffer).items == SESSION


def test_pandas_reads_the_file_as_is(tmp_path):
    path = tmp_path / "session.csv"
    write_feed(SESSION, path)
    frame = pd.read_csv(path)
    assert tuple(frame.columns) == COLUMNS and len(frame) == len(SESSION)
    assert frame["offset_s"].is_monotonic_increasing
    assert frame.loc[1, "sbp"] == 132 and pd.isna(frame.loc[2, "sbp"]) and frame.loc[4, "hr"] == 77.5
    assert frame.loc[6, "detail"] == "moaas=3;dissociation=yes;resp=ok"
    assert frame.loc[7, "detail"] == "cuff leak, retrying"  # the comma is quoted, not a new column


def feed_text(*rows: str) -> io.StringIO:
    return io.StringIO("\n".join([HEADER, *rows]) + "\n")


GOOD_START = "0,,,,,,,session_start,esketamine-84"
GOOD_BP = "120,nibp,132,84,100,76,,,"
GOOD_OX = "200,oximeter,,,,78,97,,"


@pytest.mark.parametrize("bad,reason", [
    ("150,nibp,abc,84,,76,,,", "sbp 'abc' is not a number"),
    ("100,oximeter,,,,78,97,,", "offset_s 100 goes back before 120"),
    ("150,,,,,,,explode,", "unknown event 'explode'"),
    ("150,nibp,130,80,,,,dose_start,", "either vitals or an event, not both"),
    ("150,oximeter,,,,78,97", "expected 9 fields, found 7"),
    ("150,oximeter,,,,78,97,,,", "expected 9 fields, found 10"),
    (",oximeter,,,,78,97,,", "offset_s is empty"),
    ("150,oximeter,,,,,,,", "neither vitals nor an event"),
    ("150,oximeter,,,,inf,97,,", "not a finite number"),
    ("150,,,,,,,assessment,moaas=7;dissociation=no;resp=ok", "moaas must be 0-5"),
    ("150,,,,,,,session_start,propofol", "session_start needs a protocol"),
])
def test_a_malformed_row_is_reported_with_its_line_and_the_rest_kept(bad, reason):
    # line 1 is the header; the bad row is line 4, between good rows
    feed = read_feed(feed_text(GOOD_START, GOOD_BP, bad, GOOD_OX))
    assert len(feed.problems) == 1
    problem = feed.problems[0]
    assert problem.line == 4 and reason in problem.reason
    assert str(problem).startswith("line 4: ")
    assert [i.offset_s for i in feed.items] == [0, 120, 200]


def test_several_bad_rows_each_get_their_own_line_number():
    feed = read_feed(feed_text(GOOD_START, "10,nibp,1x0,80,,,,,", GOOD_BP, "", "130,,,,,,,boom,",
                               "90,oximeter,,,,70,98,,", GOOD_OX))
    assert [p.line for p in feed.problems] == [3, 6, 7]  # the blank line 5 is skipped silently
    assert len(feed.items) == 3


def test_a_row_that_goes_back_in_time_does_not_move_the_clock():
    # the bad row at 50 is dropped; 110 is still after the last good row (100)
    feed = read_feed(feed_text(GOOD_START, "100,oximeter,,,,78,97,,", "50,oximeter,,,,78,97,,",
                               "110,oximeter,,,,78,97,,"))
    assert feed.problems == [FeedProblem(4, "offset_s 50 goes back before 100")]
    assert [i.offset_s for i in feed.items] == [0, 100, 110]


@pytest.mark.parametrize("text,message", [
    ("", "feed is empty"),
    ("0,,,,,,,session_start,esketamine-84\n", "header lacks column(s) offset_s"),
    ("offset_s,source,sbp,dbp,hr,spo2,event,detail\n", "header lacks column(s) map"),
])
def test_a_file_without_the_header_is_not_a_feed(text, message):
    with pytest.raises(FeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_feed(io.StringIO(text))


def test_header_columns_may_come_in_any_order():
    text = "event,detail,offset_s,source,sbp,dbp,map,hr,spo2\nsession_start,iv-ketamine,0,,,,,,\n,,60,nibp,120,80,,,\n"
    feed = read_feed(io.StringIO(text))
    assert feed.problems == [] and feed.protocol == "iv-ketamine"
    assert feed.items[1] == Reading("nibp", sbp=120, dbp=80, offset_s=60)


def test_unreadable_files_raise_feed_error(tmp_path):
    with pytest.raises(FeedError, match="cannot read feed"):
        read_feed(tmp_path / "missing.csv")
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(FeedError, match="not UTF-8"):
        read_feed(binary)


# ---- input that is not a feed, or not CSV at all ------------------------------------------


def test_a_field_over_the_csv_limit_is_a_malformed_row_with_its_line(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("\n".join([HEADER, GOOD_START, "60,note," + "x" * 200_000 + ",,,,,,",
                               "120,oximeter,,,,70,97,,"]) + "\n")
    feed = read_feed(path)
    assert [(p.line, p.reason) for p in feed.problems] == [(3, "not a CSV row: a field is longer than 131072 characters")]
    assert [type(i).__name__ for i in feed.items] == ["SessionEvent", "Reading"]  # the rows after it are read


def test_a_spreadsheets_byte_order_mark_is_not_part_of_the_header(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join([HEADER, GOOD_START]).encode() + b"\n")
    assert read_feed(path).protocol == "esketamine-84"


@pytest.mark.parametrize("content, code", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), 2),  # an image
    ("x" * 200_000, 2),  # one huge line
    (b"offset_s,source\x00,sbp\n\x00\x00\x00", 2),  # NUL bytes
    (b"", 2),  # empty
    ("\n".join([HEADER, "0,,,,,,,session_start,esketamine-84", '1,"unterminated']), 0),  # a feed, one bad row
])
def test_check_exits_2_with_a_message_never_a_traceback(tmp_path, capsys, content, code):
    from app import main  # in process: an exception escaping `check` fails this test

    path = tmp_path / "input.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["check", str(path)]) == code
    assert str(path) in capsys.readouterr().err
