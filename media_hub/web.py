"""Small helpers shared by the HTML page handlers of every domain."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse

from players import templates


def flash(request: Request, message: str, *, error: bool = False) -> None:
    """Keep a message for the next page shown to this session (redirect after POST)."""
    request.session["flash"] = {"text": message, "error": error}


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200):
    """Render a template with ``message``/``error`` from the session's flash, if any."""
    note = request.session.pop("flash", None)
    if note:
        context.setdefault("error" if note["error"] else "message", note["text"])
    context.setdefault("error", None)
    context.setdefault("message", None)
    return templates.TemplateResponse(request, name, context, status_code)


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
