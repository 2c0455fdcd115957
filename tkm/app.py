"""The Litestar application factory: wires settings, database, sessions, CSRF, auth, templates and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from tkm import __version__, domains
from tkm.auth.middleware import CSRF_COOKIE, CSRF_HEADER, AuthMiddleware, TKMCSRFMiddleware
from tkm.auth.sessions import make_store, session_config
from tkm.core import db
from tkm.core.inputs import InputGuardMiddleware
from tkm.core.logging import configure_logging
from tkm.core.middleware import LanguageMiddleware, security_headers
from tkm.core.openapi import ProblemResponses
from tkm.core.problem_handlers import EXCEPTION_HANDLERS, AuditDenialsMiddleware
from tkm.core.settings import Settings, get_settings
from tkm.web.templating import configure_environment


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings)
    db.configure(settings)
    domains.run_startup_checks(settings)

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        await db.open_pool()  # fails loudly when PostgreSQL is unreachable
        try:
            yield
        finally:
            await db.close_pool()

    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.secure_cookies,
        cookie_httponly=False,
        cookie_samesite="lax",
    )
    template_config = TemplateConfig(
        directory=settings.templates_dir,
        engine=JinjaTemplateEngine,
        engine_callback=configure_environment,
    )
    max_body = settings.max_upload_bytes + 1024 * 1024
    static = create_static_files_router(
        path="/static", directories=[settings.static_dir], name="static", include_in_schema=False
    )

    return Litestar(
        route_handlers=[*domains.route_handlers(), static],
        lifespan=[lifespan],
        middleware=[
            LanguageMiddleware,
            AuditDenialsMiddleware,
            DefineMiddleware(InputGuardMiddleware, max_body=max_body),
            session_config(settings).middleware,
            DefineMiddleware(TKMCSRFMiddleware, config=csrf),
            AuthMiddleware,
        ],
        stores={"sessions": make_store(settings)},
        before_send=[security_headers],
        template_config=template_config,
        exception_handlers=EXCEPTION_HANDLERS,
        plugins=[ProblemResponses()],
        openapi_config=OpenAPIConfig(
            title="TKM API",
            version=__version__,
            description="Grant workflow of the Tenaga Kerja Mandiri programme. Money is integer rupiah.",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        request_max_body_size=max_body,
        debug=False,
    )
