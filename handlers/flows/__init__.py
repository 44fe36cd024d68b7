"""The flows, by name."""

from __future__ import annotations

from handlers.engine import Flow
from handlers.flows.diary import DIARY
from handlers.flows.event import EVENT
from handlers.flows.leave import LEAVE
from handlers.flows.plan import DEED, MEASURE, MEASURE_PROGRESS, PLAN
from handlers.flows.problem import FOLLOWUP, PROBLEM, PROGRESS, RESOLVE
from handlers.flows.report import REPORT

FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (
        REPORT,
        DIARY,
        EVENT,
        PROBLEM,
        RESOLVE,
        PROGRESS,
        FOLLOWUP,
        LEAVE,
        MEASURE,
        MEASURE_PROGRESS,
        DEED,
        PLAN,
    )
}
