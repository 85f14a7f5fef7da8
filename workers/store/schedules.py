"""Schedule slots: a slot of a schedule fires at most once, across all scheduler processes.

`claim` is a SET NX of `Keys.schedule_slot(name, slot)` whose value is the id the run WILL have
(chosen before the submit), so a firer stopped at any point after its run was stored never leaves
a slot that fires twice or forgets its run. A submit that failed before storing the run gives the
claim back (`release`) so a later tick tries again. The key expires after SLOT_TTL_S.
"""

from __future__ import annotations

import redis

from workers.store import as_text
from workers.store.keys import Keys

SLOT_TTL_S = 35 * 24 * 3600


class ScheduleSlots:
    """Slot claims under `keys` on `client`."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys

    def claim(self, name: str, slot: str, run_id: str) -> bool:
        """True for exactly one caller per (schedule `name`, `slot`): the slot now holds `run_id`."""
        return bool(self.r.set(self.keys.schedule_slot(name, slot), run_id, nx=True, ex=SLOT_TTL_S))

    def release(self, name: str, slot: str, run_id: str) -> None:
        """Give back the claim `run_id` holds on a slot (its run was never stored): the next tick may
        fire it. A claim another firer holds is left alone."""
        key = self.keys.schedule_slot(name, slot)
        with self.r.pipeline() as pipe:
            try:
                pipe.watch(key)  # type: ignore[no-untyped-call]
                if as_text(pipe.get(key)) == run_id:
                    pipe.multi()
                    pipe.delete(key)
                    pipe.execute()
            except redis.WatchError:
                pass  # someone else changed the claim meanwhile: it is theirs
