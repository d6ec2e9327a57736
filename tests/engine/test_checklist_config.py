"""The pre-dose checklists in the clinic file: the shipped lists with their sources, a clinic's changes, and bad
entries refused with the key named."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.engine import ConfigError, load_config
from dashboard.ui.settings import layout


def clinic(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(text)
    return path


def keys(config, protocol: str) -> list[str]:
    checklist = config.checklist(protocol)
    return [item.key for item in checklist.items] if checklist else []


def test_the_shipped_lists_cover_every_protocol_with_sources():
    config = load_config()
    esketamine = config.checklist("esketamine-84")
    assert esketamine is config.checklist("esketamine-56")
    assert keys(config, "esketamine-56") == ["rems_enrolled", "prescriber_on_site", "fasting", "nasal_spray_timing",
                                             "transport_home"]
    fasting = esketamine.item("fasting")
    assert "2 h" in fasting.text and "30 min" in fasting.text and fasting.basis == "label"
    assert "label of 03/2026" in fasting.source and "Important Considerations" in fasting.source
    assert esketamine.item("rems_enrolled").basis == esketamine.item("prescriber_on_site").basis == "REMS"
    iv = config.checklist("iv-ketamine")
    assert {"fasting", "escort_home", "iv_access"} <= {item.key for item in iv.items}
    assert all(item.basis == "clinic policy" for item in iv.items)  # no label covers IV ketamine
    for checklist in config.checklists.values():
        assert all(item.text and item.source for item in checklist.items)
        assert not any(re.search(r"§\s*\d", item.source) for item in checklist.items)  # cited by section title


def test_a_clinic_adds_removes_and_replaces_items(tmp_path):
    config = load_config(clinic(tmp_path, """
[checklist.esketamine]
remove = ["nasal_spray_timing"]
add = [{ key = "pregnancy_test", text = "Pregnancy test negative", basis = "clinic policy", source = "our policy" }]

[checklist.iv-ketamine]
items = [{ key = "consent", text = "Consent signed", basis = "clinic policy", source = "our policy" }]
"""))
    assert keys(config, "esketamine-84") == ["rems_enrolled", "prescriber_on_site", "fasting", "transport_home",
                                             "pregnancy_test"]
    assert keys(config, "iv-ketamine") == ["consent"]
    assert config.checklist("iv-ketamine").items[0].text == "Consent signed"


def test_a_clinic_may_empty_a_list(tmp_path):
    config = load_config(clinic(tmp_path, "[checklist.iv-ketamine]\nitems = []\n"))
    assert config.checklist("iv-ketamine").items == ()


@pytest.mark.parametrize("text,key", [
    ("[checklist.esketamine]\nremove = ['no_such_item']\n", "checklist.esketamine.remove"),
    ("[checklist.esketamine]\nadd = [{ key = 'x1', text = 'X', basis = 'hunch', source = 's' }]\n",
     "checklist.esketamine.items[5].basis"),
    ("[checklist.esketamine]\nadd = [{ key = 'x1', text = '', basis = 'label', source = 's' }]\n",
     "checklist.esketamine.items[5].text"),
    ("[checklist.esketamine]\nadd = [{ key = 'Bad Key', text = 'X', basis = 'label', source = 's' }]\n",
     "checklist.esketamine.items[5].key"),
    ("[checklist.esketamine]\nadd = [{ key = 'fasting', text = 'X', basis = 'label', source = 's' }]\n",
     "checklist.esketamine.items"),
    ("[checklist.esketamine]\nadd = [{ key = 'x1', text = 'X', basis = 'label', source = 's', when = 1 }]\n",
     "checklist.esketamine.items[5].when"),
    ("[checklist.esketamine]\nextra = 1\n", "checklist.esketamine.extra"),
    ("[checklist.mine]\nprotocols = ['esketamine-56']\nitems = []\n", "checklist.mine.protocols"),
    ("[checklist.mine]\nprotocols = ['tms']\nitems = []\n", "checklist.mine.protocols"),
    ("[protocol.iv-ketamine]\nspo2_required = 'yes'\n", "protocol.iv-ketamine.spo2_required"),
])
def test_a_bad_checklist_is_refused_naming_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError, match=re.escape(key)):
        load_config(clinic(tmp_path, text))


def test_the_settings_page_shows_each_protocols_checklist_with_sources(tmp_path):
    config = load_config(clinic(tmp_path, "[checklist.iv-ketamine]\nitems = []\n"))
    text = str(layout(config))
    for item in config.checklist("esketamine-84").items:
        assert item.text in text and item.source in text
    assert "No pre-dose checklist: the dose is not gated." in text  # the clinic emptied the IV list


def test_check_prints_the_pulse_oximetry_advisory_of_a_feed_without_spo2():
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "app.py", "check", "sample_data/feeds/esketamine-no-oximeter.csv"],
                         cwd=root, capture_output=True, text=True, timeout=120, check=True).stdout
    lines = [line.split() for line in out.splitlines() if "spo2.unmonitored" in line]
    assert [line[:4] for line in lines] == [["20:00", "raised", "low", "spo2.unmonitored"],
                                            ["35:00", "cleared", "low", "spo2.unmonitored"]]
    assert "no SpO2 from an oximeter or a manual check for 15 min" in out
