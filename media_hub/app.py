"""The FastAPI application."""

from __future__ import annotations

import gc
from http import HTTPStatus

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

import players
from media_hub import apidocs, share
from media_hub.accounts import router as accounts
from media_hub.accounts.router import login_redirect
from media_hub.accounts.web import SESSION_COOKIE, authenticate, csrf_token
from media_hub.captions import router as captions
from media_hub.channel import router as channel
from media_hub.config import Settings, get_settings
from media_hub.imports import router as imports
from media_hub.legal import router as legal
from media_hub.links import ForwardedHeaders, public_base
from media_hub.library import router as library
from media_hub.library.uploads import UploadRejected
from media_hub.mirror import router as mirror
from media_hub.policy import Action, can
from media_hub.radio import router as radio
from media_hub.review import router as review
from media_hub.secret import check_secret
from media_hub.web import back
from storage import open_storage

VALIDATION_MESSAGE = "Dữ liệu gửi lên không hợp lệ."
# Vietnamese for the errors Starlette raises with English reason phrases.
DEFAULT_MESSAGES = {404: "Không tìm thấy trang này.", 405: "Phương thức không được hỗ trợ."}

players.templates.env.globals["csrf_token"] = csrf_token
players.templates.env.globals["can"] = lambda user, action, item=None: can(user, Action(action), item)


class HeadAsGet:
    """ASGI middleware: answer HEAD wherever GET is routed (FastAPI registers GET
    only); the HTTP server sends the headers without the body (RFC 9110 §9.3.2)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "HEAD" and not scope["path"].startswith("/media/"):
            scope = dict(scope, method="GET")
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment). The
    database must already be migrated (``media-hub db upgrade``; ``serve`` does it).
    Raises :class:`media_hub.secret.InsecureSecret` for a missing, sample or short
    ``secret_key`` outside the embedded setup."""
    settings = settings or get_settings()
    check_secret(settings)
    settings.ensure_dirs()
    app = FastAPI(title="media-hub", version="0.1.0", dependencies=[Depends(authenticate)],
                  docs_url=None, redoc_url=None)  # apidocs: offline
    app.state.settings = settings
    app.state.storage = open_storage(settings.blob_url)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret,
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=public_base(settings).startswith("https://"),
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(channel.LivePlaylists, settings=settings, store=app.state.storage)  # no session
    app.add_middleware(ForwardedHeaders, trusted=settings.trusted_proxies)  # outermost: who sent the headers
    app.mount("/static", StaticFiles(directory=players.STATIC_DIR), name="static")
    apidocs.install(app)
    for module in (library, review, captions, channel, radio, legal, accounts, mirror, imports, share):
        app.include_router(module.api)
        app.include_router(module.pages)

    def wants_html(request: Request) -> bool:
        return not request.url.path.startswith(("/api/", "/media/")) and "text/html" in request.headers.get(
            "accept", ""
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.detail == HTTPStatus(exc.status_code).phrase:
            exc.detail = DEFAULT_MESSAGES.get(exc.status_code, "Đã có lỗi xảy ra.")
        if wants_html(request):
            if exc.status_code == 401:
                return back(login_redirect(request.url.path))
            return players.templates.TemplateResponse(
                request, "error.html", {"status_code": exc.status_code, "message": exc.detail}, exc.status_code
            )
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(UploadRejected)
    async def upload_error(_request: Request, exc: UploadRejected):
        return JSONResponse({"detail": str(exc)}, exc.status, headers={"Connection": "close"})

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": VALIDATION_MESSAGE, "errors": exc.errors()}, 422)

    # The ~200k objects of imports and start-up live as long as the process: kept out of the
    # collector, a full collection no longer walks them all (a 100-250 ms pause of every
    # request in flight, measured under load by bench/channel.py).
    gc.collect()
    gc.freeze()
    return app
