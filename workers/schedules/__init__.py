"""Overnight ideation: schedules from `config/schedules.yaml`, fired by one rq cron scheduler.

model.py (the YAML's shape) · loader.py (read + validate) · timing.py (cron in a time zone) ·
rotation.py (tonight's items, the brief) · firing.py (claim a slot once, submit) ·
cron_config.py + scheduler.py (the rq cron process) · status.py (what `schedule list` shows).
"""
