from tkm.core import runtime
from tkm.notifications import services
from tkm.worker import celery_app


@celery_app.task(name=services.SEND_TASK, bind=True, max_retries=8)
def send_notification(self, notification_id: int) -> str:  # type: ignore[no-untyped-def]
    try:
        return runtime.run(services.send(notification_id))
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc
