"""How the page's code reaches the browser: compressed once, cached without going stale, and the charts' library
loaded while the board is idle (assets/preload_charts.js), so the first chart a nurse opens is not held up.

Dash serves its libraries under /_dash-component-suites/ (plotly.js alone is 4.8 MB). They are open like /assets/
(library code, no patient data: auth/web.py), so answering them touches no login cookie (a `Vary: Cookie` with a
cookie that changed every request made each visit fetch them again). Here they, and our own assets, are sent
compressed (brotli or gzip, as the browser accepts; each file compressed once per process and kept, keyed by its
path only, so the kept copies are bounded by the files there are). A library Dash names without a version in its
URL (plotly.js) is sent with `no-cache`: the browser keeps it and asks with its ETag, answered `304` unless an
upgrade changed it; a versioned URL keeps Dash's one-year max-age. Callback answers are not compressed: they are
small polls, and a page carrying the form's token is no place for compression (BREACH).
"""
from __future__ import annotations

from typing import Any

import flask
from flask_compress import Compress, DictCache

STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/")


def install(app: Any) -> None:
    server: flask.Flask = app.server
    server.config.update(COMPRESS_REGISTER=False, COMPRESS_ALGORITHM=["br", "gzip"], COMPRESS_MIN_SIZE=1024,
                         COMPRESS_CACHE_BACKEND=DictCache, COMPRESS_CACHE_KEY=lambda request: request.path)
    compress = Compress(server)

    @server.after_request
    def _static(response: flask.Response) -> flask.Response:
        if not flask.request.path.startswith(STATIC_PREFIXES):
            return response
        if response.cache_control.max_age is None:
            response.cache_control.no_cache = True
        return compress.after_request(response)
