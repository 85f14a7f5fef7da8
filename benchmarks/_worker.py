"""A benchmark worker process: `workers.worker.build_worker` (forking `Worker` or `SimpleWorker`),
with settings from the environment, exactly what `ideaforge worker` starts minus the scheduler."""

from __future__ import annotations

import argparse

from config.settings import get_settings
from workers.worker import build_worker


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--simple", action="store_true")
    parser.add_argument("--burst", action="store_true")
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    worker = build_worker(get_settings(), simple=args.simple, name=args.name)
    worker.work(burst=args.burst, logging_level="WARNING")


if __name__ == "__main__":
    main()
