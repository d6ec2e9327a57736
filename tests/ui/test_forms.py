"""What a nurse types: bad entries get a plain message and nothing is stored."""
from __future__ import annotations

import pytest

from dashboard.engine import load_config
from dashboard.ui import forms
from dashboard.ui.forms import FormError

CONFIG = load_config()


@pytest.mark.parametrize("sbp,dbp,hr,message", [
    ("999", "10", "", "Systolic 999 is outside 50–300"),
    ("abc", "80", "", "Systolic 'abc' is not a whole number"),
    ("120", "", "", "Diastolic is empty"),
    ("120", "120", "", "Diastolic 120 must be below systolic 120"),
    ("120", "80", "7", "Heart rate 7 is outside 20–300"),
    ("12.5", "80", "", "not a whole number"),
    ("-120", "80", "", "not a whole number"),
])
def test_manual_bp_refuses_what_cannot_be_a_bp(sbp, dbp, hr, message):
    with pytest.raises(FormError, match=message):
        forms.manual_bp(sbp, dbp, hr, CONFIG)


def test_manual_bp_accepts_the_plausible_extremes():
    assert forms.manual_bp(" 300 ", "199", "", CONFIG) == forms.ManualBP(300, 199, None)
    assert forms.manual_bp("50", "20", "20", CONFIG) == forms.ManualBP(50, 20, 20)


def test_assessment_needs_every_answer():
    assert forms.assessment("5", "no", "ok").to_detail() == "moaas=5;dissociation=no;resp=ok"
    for args in [(None, "no", "ok"), ("6", "no", "ok"), ("3", None, "ok"), ("3", "no", "shallow")]:
        with pytest.raises(FormError):
            forms.assessment(*args)


def test_who_and_reasons():
    with pytest.raises(FormError, match="Sign in first"):
        forms.who("  ")
    assert forms.who(" AB ") == "AB"
    with pytest.raises(FormError, match="reason for the override"):
        forms.note("", required=True, what="override")
    assert forms.note("  anxious,\n  rechecked  ") == "anxious, rechecked"


def test_new_session_refuses_a_busy_chair_and_an_unknown_protocol():
    with pytest.raises(FormError, match="already has a session"):
        forms.new_session("Chair 1", "P-1", "iv-ketamine", "", {"Chair 1"})
    with pytest.raises(FormError, match="protocol"):
        forms.new_session("Chair 5", "P-1", "propofol", "", set())
    assert forms.new_session("Chair 5", "P-1", "esketamine-56", "56 mg", set()).chair == "Chair 5"
