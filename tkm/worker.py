"""The Celery app. Tasks are thin wrappers over services (see each domain's tasks.py).

Embedded default: kombu's filesystem transport and a file result backend under
TKM_DATA_DIR; production: Redis. Tasks are acknowledged late and re-queued
when a worker dies, so every task must be safe to run twice.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from kombu import pools as kombu_pools

from tkm.core import runtime
from tkm.core.settings import Settings, get_settings
from tkm.domains import task_modules

#: Redis re-delivers an unacknowledged task after this long; retries must wait less than it.
VISIBILITY_TIMEOUT = 3600
#: How often an idle worker looks into the filesystem broker's folder (kombu's default is 1 s, which
#: caps a worker process at about one task a second however quick the task is).
FILESYSTEM_POLLING_INTERVAL = 0.1


def _broker_options(settings: Settings) -> dict[str, Any]:
    if settings.broker_kind == "redis":
        return {"visibility_timeout": VISIBILITY_TIMEOUT}
    base = settings.broker_dir
    for sub in ("queue", "processed", "control", "results"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(base / "queue"),
        "data_folder_out": str(base / "queue"),
        "processed_folder": str(base / "processed"),
        "control_folder": str(base / "control"),
        "store_processed": False,
        "polling_interval": FILESYSTEM_POLLING_INTERVAL,
    }


def queue_name() -> str:
    import os

    return os.environ.get("TKM_QUEUE", "tkm")


def make_celery(settings: Settings) -> Celery:
    app = Celery("tkm", include=task_modules())
    apply_settings(app, settings)
    return app


def apply_settings(app: Celery, settings: Settings) -> None:
    queue = queue_name()
    app.conf.update(
        broker_url=settings.broker_url,
        result_backend=settings.result_backend,
        task_default_queue=queue,
        control_exchange=f"{queue}-control",
        event_exchange=f"{queue}-event",
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_ignore_result=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_max_tasks_per_child=settings.worker_max_tasks_per_child,
        broker_transport_options=_broker_options(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 1},
        result_expires=timedelta(days=1),
        timezone="Asia/Jakarta",
        enable_utc=True,
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        worker_hijack_root_logger=False,
        beat_schedule={
            "outbox-drain": {"task": "tkm.outbox.drain", "schedule": 30.0},
            **app.conf.get("tkm_domain_schedule", {}),
        },
    )


celery_app = make_celery(get_settings())


def add_schedule(entries: dict[str, dict[str, Any]]) -> None:
    """Domain task modules call this to add their periodic tasks."""
    celery_app.conf.tkm_domain_schedule = {**celery_app.conf.get("tkm_domain_schedule", {}), **entries}
    celery_app.conf.beat_schedule = {**celery_app.conf.beat_schedule, **entries}


def reconfigure(settings: Settings) -> None:
    """Point the app at other settings (tests switch brokers); drops pooled broker connections."""
    apply_settings(celery_app, settings)
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._after_fork()  # forgets the connection and producer pools
    kombu_pools.reset()  # kombu keeps its own producer pools per connection
    for cached in ("amqp", "control", "events"):  # built from the old queue and exchange names
        celery_app.__dict__.pop(cached, None)
    celery_app._backend_cache = None
    celery_app._local = threading.local()  # forgets the result backend


@worker_process_init.connect
def _fresh_process(**_kwargs: Any) -> None:
    # A forked child must not reuse its parent's event loop or database pool.
    runtime.reset()
