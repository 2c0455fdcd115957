"""The transition log of every flow (applications, tranches, reports, ...): one table, one row per action."""

from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tkm.auth.tables import User


class HistoryEvent(Table, tablename="history_events"):
    """Who moved which record from which state to which, when and why; replayable to the record's state.

    ``record_kind`` names the flow's record (``application``, ``tranche``, ``report``) and ``record_id`` its
    row; ``seq`` counts 1, 2, ... per record (unique with the two, by a raw index in the migration). Rows
    are only ever appended.
    """

    record_kind = Varchar(length=30)
    record_id = Integer()
    seq = Integer()
    action = Varchar(length=60)
    from_state = Varchar(length=40, default="")
    to_state = Varchar(length=40, default="")
    actor = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    actor_name = Varchar(length=200, default="")
    actor_role = Varchar(length=20, default="")
    at = Timestamptz()
    notes = Text(default="")
    body = JSON(default="{}")
    hash = Varchar(length=64, default="")
