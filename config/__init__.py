"""Settings, agent defaults and logging set-up. Imports nothing from the rest of ideaforge."""

from config.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
