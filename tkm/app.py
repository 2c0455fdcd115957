"""The Litestar application factory: wires settings, database, sessions, CSRF, auth, templates and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from tkm import __version__
from tkm.auth.middleware import CSRF_COOKIE, CSRF_HEADER, AuthMiddleware, TKMCSRFMiddleware
from tkm.auth.sessions import make_store, session_config
from tkm.core import db
from tkm.core.logging import configure_logging
from tkm.core.middleware import LanguageMiddleware
from tkm.core.openapi import ProblemResponses
from tkm.core.problem_handlers import EXCEPTION_HANDLERS, AuditDenialsMiddleware
from tkm.core.settings import Settings, get_settings
from tkm.web.templating import configure_environment

#: Modules exposing ``ROUTES`` (handlers and controllers); add a domain here to publish its routes.
ROUTE_MODULES = [
    "tkm.core.routes",
    "tkm.auth.routes",
    "tkm.regions.routes",
    "tkm.programmes.routes",
    "tkm.groups.routes",
    "tkm.applications.routes",
    "tkm.ledger.routes",
    "tkm.reports.routes",
    "tkm.disbursement.routes",
    "tkm.web.routes",
    "tkm.documents.routes",
    "tkm.dashboard.routes",
]

#: Hooks run at start-up, e.g. loading and validating workflows/*.toml.
STARTUP_MODULES: list[str] = ["tkm.workflow.loader", "tkm.documents.hooks", "tkm.dashboard.hooks"]


def collect_routes() -> list[Any]:
    routes: list[Any] = []
    for name in ROUTE_MODULES:
        routes.extend(import_module(name).ROUTES)
    return routes


def run_startup_checks(settings: Settings) -> None:
    for name in STARTUP_MODULES:
        import_module(name).startup(settings)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings)
    db.configure(settings)
    run_startup_checks(settings)

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
    static = create_static_files_router(
        path="/static", directories=[settings.static_dir], name="static", include_in_schema=False
    )

    return Litestar(
        route_handlers=[*collect_routes(), static],
        lifespan=[lifespan],
        middleware=[
            LanguageMiddleware,
            AuditDenialsMiddleware,
            session_config(settings).middleware,
            DefineMiddleware(TKMCSRFMiddleware, config=csrf),
            AuthMiddleware,
        ],
        stores={"sessions": make_store(settings)},
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
        request_max_body_size=settings.max_upload_bytes + 1024 * 1024,
        debug=False,
    )
