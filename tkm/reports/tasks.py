import datetime as dt

from celery.schedules import crontab

from tkm.core import runtime
from tkm.reports import reminders
from tkm.worker import add_schedule, celery_app


@celery_app.task(name="tkm.reports.send_reminders")
def send_reminders(on: str | None = None) -> dict[str, int]:
    """Daily; ``on`` (YYYY-MM-DD) replays a given day, e.g. after an outage."""
    return runtime.run(reminders.send_reminders(dt.date.fromisoformat(on) if on else None))


add_schedule({"report-reminders": {"task": "tkm.reports.send_reminders", "schedule": crontab(hour=8, minute=0)}})
