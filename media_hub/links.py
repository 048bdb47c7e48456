"""The hub's public address: the one base every absolute link is built on.

Feeds, M3U, XMLTV, oEmbed, Open Graph, the sitemap, the account page's feed address,
YouTube's link back and the CLI all call :func:`public_base`. In order:

1. ``MEDIA_HUB_PUBLIC_BASE_URL`` when set (production: the address people use).
2. A request relayed by a trusted proxy (``MEDIA_HUB_TRUSTED_PROXIES``):
   ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` (else the ``Host`` it passed on).
3. A request to a hub bound to every interface (``0.0.0.0``, ``::``): its ``Host``
   header, the address the client reached (there is no single right one).
4. ``http://{host}:{port}`` of ``serve`` (``MEDIA_HUB_HOST``/``MEDIA_HUB_PORT``, which
   ``serve --host/--port`` set for the web and worker processes it starts).

Host values from headers are used only when they are a plain ``host[:port]``
(a name, an IPv4 address or a bracketed IPv6 address); anything else falls back to 4.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from media_hub.config import Settings
from media_hub.proxies import is_trusted_proxy

WILDCARDS = {"0.0.0.0", "::", "", "[::]"}
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
                   r"|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
VIA_PROXY = "via_trusted_proxy"  # request.state flag set by ForwardedHeaders


def _host(value: str | None) -> str | None:
    value = (value or "").strip().split(",")[0].strip()  # X-Forwarded-Host may list several: the first is the client's
    return value if _HOST.fullmatch(value) else None


def served_base(settings: Settings) -> str:
    """``http://{host}:{port}`` of ``serve``; a wildcard bind reads as loopback."""
    host = settings.host
    if host in WILDCARDS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def public_base(settings: Settings, request: Request | None = None) -> str:
    """The absolute base of public links, without a trailing slash, e.g.
    ``"https://phapluat.example.vn"`` (see the module docstring for the order)."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    if request is not None:
        if getattr(request.state, VIA_PROXY, False):
            host = _host(request.headers.get("x-forwarded-host")) or _host(request.headers.get("host"))
            if host:
                return f"{request.url.scheme}://{host}"  # scheme: X-Forwarded-Proto, applied below
        elif settings.host in WILDCARDS and (host := _host(request.headers.get("host"))):
            return f"http://{host}"
    return served_base(settings)


class ForwardedHeaders:
    """ASGI middleware, outermost: for a peer in ``trusted`` (``is_trusted_proxy``) mark
    the request as relayed (``request.state.via_trusted_proxy``) and apply its
    ``X-Forwarded-For``/``-Proto`` with uvicorn's own middleware (``request.client`` is
    then the real client, ``request.url.scheme`` the client's scheme); headers from any
    other peer are ignored. ``serve`` runs uvicorn with ``proxy_headers=False``: this
    is the one place forwarded headers are read, knowing who sent them."""

    def __init__(self, app, trusted: list[str]):
        self.app = app
        self.trusted = list(trusted)
        self.proxied = ProxyHeadersMiddleware(app, trusted_hosts=self.trusted or [])

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and self.trusted:
            peer = (scope.get("client") or ("", 0))[0]
            if is_trusted_proxy(peer, self.trusted):
                scope.setdefault("state", {})[VIA_PROXY] = True
                return await self.proxied(scope, receive, send)
        await self.app(scope, receive, send)
