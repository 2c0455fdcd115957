from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class Notification(Table, tablename="notifications"):
    """One message to one address. ``key`` makes a notification happen once (e.g. one reminder per group and period)."""

    key = Varchar(length=200, unique=True)
    recipient = Varchar(length=320)
    subject = Varchar(length=300)
    body = Text()
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    last_error = Text(default="")
