"""Core periodic tasks: the outbox drain, the daily checkpoint of the chains, and a ping used by health checks
and tests."""

from celery.schedules import crontab

from tkm.core import checkpoints, outbox, runtime
from tkm.worker import add_schedule, celery_app

CHECKPOINT_TASK = "tkm.checkpoints.write"


@celery_app.task(name="tkm.outbox.drain")
def drain_outbox() -> int:
    return runtime.run(outbox.drain())


@celery_app.task(name="tkm.ping")
def ping() -> str:
    return "pong"


@celery_app.task(name=CHECKPOINT_TASK)
def write_checkpoint() -> str:
    """The day's chain heads, signed, to the data store (another run the same day adds another file)."""
    return str(runtime.run(checkpoints.write())["name"])


add_schedule({"chain-checkpoint": {"task": CHECKPOINT_TASK, "schedule": crontab(hour=23, minute=50)}})
