"""What every request handler needs, built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings
from workers.api import Ideaforge


@dataclass
class Deps:
    settings: Settings
    forge: Ideaforge

    @classmethod
    def build(cls, settings: Settings) -> Deps:
        return cls(settings=settings, forge=Ideaforge(settings))
