"""The esketamine REMS Patient Monitoring Form, every field, filled from what the session recorded, in the order
and wording of the revision of the form the session was filled under.

The printout follows the form's own order and wording, section by section, so a nurse can copy it onto the
form (or the REMS website) field by field, or attach it. Each revision of the form is a mapping beside the others
(revisions.py: 11/2021, as transcribed from Janssen's form, and the current one, as J&J's walk-through of it and
the FDA REMS page describe it), carrying its revision date; a session keeps the revision it was started under.
fill.py reads the record; form.py holds the filled form. docs/clinical.md says how each answer is made.

What the software cannot know (the patient's name, birth date and sex; the provider's telephone and e-mail; the
setting's address) is left for the nurse: the form's patient is the identifier the site files the patient under.
"""
from __future__ import annotations

from .fill import FORM_DOSES, SERIOUS_ADVERSE_EVENT, dose_given, form_dose, rems_form, spo2_bounds
from .form import (MEDICINES, NOT_APPLICABLE, NOT_ASSESSED, NOT_RECORDED, FormBP, FormField, FormRevision,
                   LowestSpO2, PulseOximetry, RemsForm)
from .revisions import CONCOMITANT, CURRENT, REVISION_2021, REVISIONS, revision

__all__ = ["CONCOMITANT", "CURRENT", "FORM_DOSES", "FormBP", "FormField", "FormRevision", "LowestSpO2",
           "MEDICINES", "NOT_APPLICABLE", "NOT_ASSESSED", "NOT_RECORDED", "PulseOximetry",
           "REVISIONS", "REVISION_2021", "RemsForm", "SERIOUS_ADVERSE_EVENT", "dose_given", "form_dose", "revision",
           "rems_form", "spo2_bounds"]
