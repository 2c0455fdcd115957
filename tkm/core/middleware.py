"""Request-wide context (the language of the answer) and the security headers of every answer."""

from __future__ import annotations

from urllib.parse import parse_qs

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tkm.core.i18n import negotiate, reset_language, set_language

LANG_COOKIE = "lang"


class LanguageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        cookies = {}
        for part in headers.get("cookie", "").split(";"):
            name, _sep, value = part.strip().partition("=")
            cookies[name] = value
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
        # Pages are Indonesian unless the person switched (cookie or ?lang=): many Indonesian browsers
        # announce English. API clients may ask with Accept-Language.
        accept = headers.get("accept-language") if scope.get("path", "").startswith("/api/") else None
        language = negotiate(accept, cookies.get(LANG_COOKIE), query)
        scope.setdefault("state", {})["language"] = language
        token = set_language(language)
        # Kept when something is raised: a refusal from a later middleware (bad input, CSRF) is rendered by
        # Litestar's outer exception handler, after this one, in the same task and language.
        await self.app(scope, receive, send)
        reset_language(token)


#: Pages load scripts, styles, fonts and images from the app alone; no inline script, no eval, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


async def security_headers(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: headers every answer carries; HTML pages also get the strict policy.

    A hook rather than a middleware, so answers made outside any route (the 404 of an unknown path)
    carry them too. A handler that sets its own policy (e.g. a sandbox for a file viewed inline) keeps it.
    """
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)  # type: ignore[arg-type]
    for name, value in (
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ):
        if name.lower() not in headers:
            headers[name] = value
    if (headers.get("content-type") or "").startswith("text/html") and "content-security-policy" not in headers:
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
