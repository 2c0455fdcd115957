"""Core periodic tasks: the outbox drain, and a ping used by health checks and tests."""

from tkm.core import outbox, runtime
from tkm.worker import celery_app


@celery_app.task(name="tkm.outbox.drain")
def drain_outbox() -> int:
    return runtime.run(outbox.drain())


@celery_app.task(name="tkm.ping")
def ping() -> str:
    return "pong"
