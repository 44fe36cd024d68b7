"""The `sweep_rounds` table."""

from __future__ import annotations

from sqlalchemy import Column, Date, String, Table

from storage.tables._meta import BigId, Stamp, metadata

# A day's reminder round (storage/sweep_rounds.py): the daily sweep opens it, the dispatcher
# derives its messages a batch at a time as it sends them, the most overdue first: the
# round's passes go through the day's due days in order (`pass_due`), each through the
# cadres in id order (`after_cadre`, the last one done), until `done_at`.
sweep_rounds = Table(
    "sweep_rounds",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("stage_on", Date, nullable=False),  # the day swept
    Column("lang", String(10), nullable=False),  # the language of accounts without one
    Column("opened_at", Stamp, nullable=False),  # the sweep's moment
    Column("not_before", Stamp),  # its messages wait for the end of the quiet hours
    Column("pass_due", Date),  # the due day of the pass under way (None: not begun)
    Column("after_cadre", BigId, nullable=False, default=0),
    Column("done_at", Stamp),
)
