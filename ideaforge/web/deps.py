"""What every request handler needs, built once per app."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from config.settings import Settings
from workers.api import Ideaforge
from workers.store.keys import Keys


@dataclass
class Deps:
    settings: Settings
    forge: Ideaforge
    keys: Keys
    aredis: aioredis.Redis

    @classmethod
    def build(cls, settings: Settings) -> Deps:
        return cls(
            settings=settings,
            forge=Ideaforge(settings),
            keys=Keys(settings.key_prefix),
            aredis=aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=5),
        )
