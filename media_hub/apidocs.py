"""``/docs`` (Swagger UI) and ``/redoc`` served from the hub itself, offline.

FastAPI's own pages load Swagger UI and ReDoc from a CDN (and ReDoc's fonts from
Google): on a Department's intranet without Internet access they stay blank. The
assets come from the ``fastapi-offline`` package (Swagger UI 5, ReDoc 2) and are
served under ``/static-docs/``; the app is built with ``docs_url=None, redoc_url=None``.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).with_name("static")
PREFIX = "/static-docs"


def install(app: FastAPI) -> None:
    """Mount the assets and add ``/docs``, its OAuth2 redirect page and ``/redoc``."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="static-docs")
    title, openapi_url = app.title, app.openapi_url or "/openapi.json"
    oauth2_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{title} — API", oauth2_redirect_url=oauth2_url,
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js", swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
        )

    @app.get(oauth2_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{title} — API",
                              redoc_js_url=f"{PREFIX}/redoc.standalone.js",
                              redoc_favicon_url=f"{PREFIX}/favicon.png", with_google_fonts=False)
