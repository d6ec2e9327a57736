"""Esketamine sessions for the REMS form queue's tests, written through the real Ingest at chosen wall times."""
from __future__ import annotations

import dataclasses

from dashboard.store import Store
from devices.feed import read_feed
from devices.readings import SessionEvent

from ..review_sessions import SAMPLES, SEVERE_FEED, recorded_session

TAKING = {"benzodiazepines": True, "non_benzodiazepine_hypnotics": False, "psychostimulants": False,
          "maois": False, "opioids": False}
DOSE_AT_S = 600.0  # the severe-peak sample's first device, in session seconds


def nurse_items(nurse: str = "RN-AB") -> list:
    """The severe-peak sample feed with its dose started by a nurse, and the serious-adverse-event question she
    answers at discharge, as the web records them."""
    out: list = []
    for item in read_feed(SEVERE_FEED).items:
        if isinstance(item, SessionEvent) and item.kind == "discharge":
            out.append(SessionEvent("serious_adverse_event", "no", who=nurse, offset_s=item.offset_s))
        out.append(dataclasses.replace(item, who=nurse) if isinstance(item, SessionEvent) and
                   item.kind == "dose_start" else item)
    return out


def esketamine_session(store: Store, dosed_at: float, chair: str = "Chair 3", complete: bool = True,
                       **record) -> int:
    """A finished esketamine 84 mg session whose first device was given at `dosed_at` (epoch seconds); its form
    complete (every answer in the record) or a draft (no lot number)."""
    answers = {"patient_identifier": "MRN-0042", "first_treatment": False, "concomitant": TAKING,
               "lot": "LOT 24K17B" if complete else "", **record}
    return recorded_session(store, items=nurse_items(), chair=chair, started=dosed_at - DOSE_AT_S, **answers)


def iv_session(store: Store, started: float) -> int:
    return recorded_session(store, feed=SAMPLES / "feeds" / "iv-quiet.csv", actions=None, dose="0.5 mg/kg",
                            chair="Chair 9", started=started)
