"""GET /health: database, broker and live workers."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec

from tkm.core import db
from tkm.core.schemas import HealthOut, out


def _broker_ok() -> bool:
    from tkm.worker import celery_app

    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def _live_workers(timeout: float = 1.0) -> int:
    from tkm.worker import celery_app

    try:
        replies = celery_app.control.ping(timeout=timeout)
    except Exception:
        return 0
    return len(replies or [])


async def check(timeout: float = 1.0) -> dict[str, Any]:
    try:
        database = "ok" if await db.ping() else "error"
    except Exception:
        database = "error"
    broker = "ok" if await anyio.to_thread.run_sync(_broker_ok) else "error"
    workers = await anyio.to_thread.run_sync(_live_workers, timeout) if broker == "ok" else 0
    return {"database": database, "broker": broker, "workers": workers}


@get(
    "/health",
    tags=["operations"],
    summary="Database, broker and live workers",
    cache=False,
    responses={
        503: ResponseSpec(HealthOut, description="The database or the broker is not reachable", generate_examples=False)
    },
)
async def health() -> Response[HealthOut]:
    result = await check()
    ok = result["database"] == "ok" and result["broker"] == "ok"
    return Response(out(HealthOut, result), status_code=200 if ok else 503)
