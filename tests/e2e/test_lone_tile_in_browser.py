"""A lone tile next to "Chairs without a session" is not clipped (issue 22), in headless Chromium against the real
server: one chair in session with a severe BP (two alarms: its alarm line ends "(+1 more)") and a chair whose
monitor sends over HL7 with no session. At 1920x1080, on a 1024x768 tablet and on a portrait tablet, every line
the tile shows lies inside it and no text of it is cut short (an ellipsis included), its numerals whole.
"""
from __future__ import annotations

import threading

import pytest

from tests.e2e.servers import free_port
from tests.ward import keep_live, make_ward

from .screen import MEASURE_JS
from .test_devices_in_browser import send

SIZES = ((1920, 1080), (1024, 768), (800, 1280))

# Each line the tile shows (displayed children): inside the tile's box, its text not cut (wider than its box).
CUT_JS = """
const tile = document.querySelector('.board > .tile:not(.waiting)'), box = tile.getBoundingClientRect();
return Array.from(tile.children).filter(c => c.offsetParent !== null && c.textContent).filter(c => {
  const r = c.getBoundingClientRect();
  return r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1
    || c.scrollWidth > c.clientWidth + 1; }).map(c => c.className + ': ' + c.textContent);
"""


@pytest.mark.timeout(600)
def test_a_lone_tile_beside_chairs_without_a_session_is_whole(start_server, screen, tmp_path):
    db, hl7_port = tmp_path / "clinic.db", free_port()
    sids = make_ward(db, 1, states=("high",))
    stop = threading.Event()
    feeder = threading.Thread(target=keep_live, args=(db, sids, stop), daemon=True)
    feeder.start()
    try:
        server = start_server("serve", "--no-simulator", "--database", str(db), "--hl7-port", str(hl7_port))
        assert send(hl7_port, 1, location="CHAIR9", sbp=131, dbp=84) == "AA"  # no session on that chair
        screen.size(*SIZES[0])
        screen.sign_in(server.url, "nurse")
        screen.until(lambda: screen.js("return !!document.querySelector('.tile.waiting')"), "the waiting chair")
        alarm_line = "return document.querySelector('.board > .tile .tile-alarm').textContent"
        screen.until(lambda: "more)" in screen.js(alarm_line), "the lone tile's alarm line with its second alarm")
        for width, height in SIZES:
            screen.size(width, height)
            page = screen.until(lambda: (p := screen.js(MEASURE_JS))["viewport"] == [width, height] and p,
                                f"laid out at {width}x{height}")
            lone = next(tile for tile in page["tiles"] if tile["chair"] == "Chair 01")
            assert not lone["clipped"], f"{width}x{height}: {lone}"
            assert screen.js(CUT_JS) == [], f"{width}x{height}"
    finally:
        stop.set()
        feeder.join(timeout=10)
