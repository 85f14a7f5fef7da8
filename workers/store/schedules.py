"""Schedule slots: a slot of a schedule fires at most once, across all scheduler processes.

`claim` is a SET NX of `Keys.schedule_slot(name, slot)` (value `claiming`); the firer then records
the run id there, or releases the claim when the submit failed so a later tick tries again.
The key expires after SLOT_TTL_S.
"""

from __future__ import annotations

import redis

from workers.store.keys import Keys

SLOT_TTL_S = 35 * 24 * 3600
CLAIMING = "claiming"


class ScheduleSlots:
    """Slot claims under `keys` on `client`."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys

    def claim(self, name: str, slot: str) -> bool:
        """True for exactly one caller per (schedule `name`, `slot`)."""
        return bool(self.r.set(self.keys.schedule_slot(name, slot), CLAIMING, nx=True, ex=SLOT_TTL_S))

    def record(self, name: str, slot: str, run_id: str) -> None:
        """The claimed slot started `run_id`."""
        self.r.set(self.keys.schedule_slot(name, slot), run_id, ex=SLOT_TTL_S)

    def release(self, name: str, slot: str) -> None:
        """Give a claimed slot back (its submit failed): the next tick may fire it."""
        self.r.delete(self.keys.schedule_slot(name, slot))
