"""The session's charts, shared by the screens (dashboard/ui) and the PDF report (reports/exports):

    figures.py   the session chart (BP band, HR, SpO2, phases, alarms) and the course chart
    marks.py     alarm and limit marks on a chart
    review.py    the review chart of a finished session: thinned to the screen, zoomed in full detail
    decimate.py  the thinning
"""
