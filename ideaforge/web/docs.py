"""`/docs`: Swagger UI served from this server, from the pinned `swagger-ui-bundle-v2` package.

FastAPI's own `/docs` loads an unpinned `swagger-ui-dist` from a CDN and starts it with an inline
script; `/redoc` loads ReDoc from a CDN. Both are turned off (`FastAPI(docs_url=None,
redoc_url=None)`) and this page replaces them: the assets under ASSETS_PATH, the initializer in
`static/docs.js`, nothing from another origin, so it works under the CSP of security_headers.py.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS_PATH = "/static/swagger-ui"  # under /static: open without a token, like the dashboard's assets

DOCS_HTML = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>ideaforge API</title>
  <link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
  <script src="/static/docs.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Add `GET /docs` and mount the Swagger UI assets. Call before mounting `/static`."""
    app.mount(ASSETS_PATH, StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)
