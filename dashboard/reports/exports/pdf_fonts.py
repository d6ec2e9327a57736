"""The PDFs' font and the text it can draw, shared by the session report and the REMS form printout.

Text is real text in an embedded Unicode font (DejaVu Sans when the system has it, else the PDF core Helvetica
with the few characters Latin-1 lacks replaced), so a PDF is searchable and copyable.
"""
from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/local/share/fonts"))
_LATIN1_SWAPS = {"–": "-", "—": "-", "·": "|", "×": "x", "✔": "+", "✘": "-", "→": "->", "…": "..."}


def unicode_font(pdf: FPDF) -> str:
    """Adds DejaVu Sans (regular and bold) to `pdf` when the system has it; returns the face to use."""
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu"
    return "Helvetica"


def drawable(face: str, value: str) -> str:
    """`value` as `face` can draw it: unchanged in DejaVu, Latin-1 with swaps in the core Helvetica."""
    if face != "Helvetica":
        return value
    for char, swap in _LATIN1_SWAPS.items():
        value = value.replace(char, swap)
    return value.encode("latin-1", "replace").decode("latin-1")
