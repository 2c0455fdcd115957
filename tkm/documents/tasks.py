"""Render tasks: thin wrappers over services.render; a periodic sweep re-sends renders that were lost."""

from __future__ import annotations

from tkm.core import runtime
from tkm.documents import services
from tkm.worker import VISIBILITY_TIMEOUT, add_schedule, celery_app

MAX_RETRIES = 6
#: Retries wait at most this long, well below Redis' visibility timeout (else Redis would deliver it twice).
MAX_COUNTDOWN = min(600, VISIBILITY_TIMEOUT // 4)
SWEEP_EVERY_SECONDS = 60.0


def backoff(retries: int) -> int:
    """10 s, 20 s, 40 s, ... capped at MAX_COUNTDOWN."""
    return min(MAX_COUNTDOWN, 10 * 2**retries)


@celery_app.task(name=services.RENDER_TASK, bind=True, max_retries=MAX_RETRIES)
def render_document(self, document_id: int) -> str:  # type: ignore[no-untyped-def]
    try:
        return runtime.run(services.render(document_id))
    except Exception as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@celery_app.task(name=services.SWEEP_TASK)
def sweep_documents() -> int:
    return runtime.run(services.resend_stuck())


add_schedule({"documents-sweep": {"task": services.SWEEP_TASK, "schedule": SWEEP_EVERY_SECONDS}})
