"""Idempotent sweeps for routing."""

from __future__ import annotations

from kefu.core.clock import Clock, system_clock

from . import actions


def sweep_queues(clock: Clock = system_clock) -> int:
    """Assign waiting conversations to agents who have room (missed events,
    restarts). Running it twice assigns nothing twice."""
    return actions.drain_queues(clock=clock)
