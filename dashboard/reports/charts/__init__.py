"""The session's charts, shared by the screens (dashboard/ui) and the PDF report (reports/exports):

    review_data.py  what the review chart shows, as values: the review page's figure and the PDF's drawing share it
    figures.py   the session chart (BP band, HR, SpO2, phases, alarms) and the course chart
    marks.py     alarm and limit marks on a chart
    review.py    the review chart of a finished session: thinned to the screen, zoomed in full detail
    decimate.py  the thinning
"""
