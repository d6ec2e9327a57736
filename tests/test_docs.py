"""The repository explains itself: the docs name every alarm code and setting, the README links them, and
nothing points to a folder a clone does not have."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from dashboard.engine import ALARM_CODES, load_config

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("docs/feed-format.md", "docs/alarms.md", "docs/clinical.md", "docs/ward-display.md")
def test_alarms_doc_names_every_code_and_setting():
    text = (ROOT / "docs" / "alarms.md").read_text()
    for code in ALARM_CODES:
        assert f"`{code}`" in text, code
    for key in load_config().settings:
        if key.startswith("protocol."):
            continue
        table = key.rsplit(".", 1)[0]
        assert f"`{key}`" in text or f"`{table}.*`" in text, key


def test_readme_links_the_docs_and_check_help_names_them():
    readme = (ROOT / "README.md").read_text()
    for doc in DOCS:
        assert f"]({doc})" in readme and (ROOT / doc).exists()
    help_text = subprocess.run([sys.executable, "app.py", "check", "--help"], cwd=ROOT, capture_output=True, text=True,
                               timeout=60).stdout
    assert "docs/feed-format.md" in help_text


def test_nothing_points_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    # the team's briefs sit beside the work tree, never in a clone: no file names them or their folder
    briefs = ("../" + "shared", "DESIGN" + ".md", "CLINICAL" + ".md", "PROTOCOLS" + ".md")
    outside = [f for f in files if f.endswith((".py", ".md", ".toml", ".txt", ".cfg", "Makefile"))
               and any(brief in (ROOT / f).read_text(errors="replace") for brief in briefs)]
    assert outside == []


def test_the_architecture_page_opens_the_readme_and_names_only_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    assert 0 < readme.index("](docs/architecture.md)") < readme.index("\n## ")  # on the first screen
    assert 0 < readme.index("](docs/intended-use.md)") < readme.index("\n## ")
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"\b((?:app\.py)|(?:dashboard|devices|tests|docs)/[\w/.-]*\w/?)", text))
    assert len(named) > 40  # every step of a reading's path and every folder is named by its file
    assert sorted(n for n in named if not (ROOT / n).exists() and "NAME" not in n) == []  # NAME: a placeholder


def test_the_label_is_cited_by_section_title_and_date_not_by_section_number():
    """The 03/2026 label renumbered its warnings: a '§5.6' from an older one points at another section. The config,
    docs and app cite the label by section title and date instead."""
    files = subprocess.run(["git", "ls-files", "dashboard", "devices", "docs", "sample_data", "README.md"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    texts = {f: (ROOT / f).read_text(errors="replace") for f in files
             if f.endswith((".py", ".md", ".toml", ".css", ".js", ".csv", ".txt")) and (ROOT / f).exists()}
    numbered = re.compile(r"§\s*\d|label\W{1,3}\(?\d+\.\d|(?:Warnings and Precautions|Dosage and Administration) \(?\d")
    assert sorted(f for f, text in texts.items() if numbered.search(text)) == []
    label_sources = [s.source for s in load_config().settings.values() if "Spravato label" in (s.source or "")]
    assert len(label_sources) >= 8 and all("label of 03/2026" in source for source in label_sources), label_sources
