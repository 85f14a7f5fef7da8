"""The model server process: `python -m ideaforge.local_model.launch --model PATH --alias NAME ...`.

Runs llama.cpp's OpenAI-compatible server (xllamacpp) bound to 127.0.0.1 until SIGTERM/SIGINT.
The manager verifies the model file before it runs this. An optional API key is read from the
environment variable `IDEAFORGE_LOCAL_MODEL_API_KEY` (never from the command line, which `ps` shows).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

API_KEY_ENV = "IDEAFORGE_LOCAL_MODEL_API_KEY"
HOST = "127.0.0.1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve a local GGUF model on 127.0.0.1 (llama.cpp).")
    parser.add_argument("--model", required=True, type=Path, help="path of the verified GGUF file")
    parser.add_argument("--alias", required=True, help="the model name clients use")
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--host", default=HOST, help="bind address (127.0.0.1 unless in a private network)")
    parser.add_argument("--ctx", type=int, default=4096, help="context size in tokens")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=1, help="concurrent request slots")
    parser.add_argument("--pid-file", type=Path, default=None, help="removed on exit if it names us")
    return parser.parse_args(argv)


def _remove_pid_file(pid_file: Path | None) -> None:
    if pid_file is None:
        return
    try:
        if json.loads(pid_file.read_text(encoding="utf-8")).get("pid") == os.getpid():
            pid_file.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def serve(args: argparse.Namespace) -> None:
    """Start the server and block until a termination signal arrives."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(args.model)
    params.model_alias = {args.alias}
    params.hostnames = [args.host]
    params.port = args.port
    params.n_ctx = args.ctx
    params.n_parallel = max(1, args.parallel)
    params.kv_unified = True  # slots share the whole context instead of n_ctx / n_parallel each
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.ui = False
    api_key = os.environ.get(API_KEY_ENV)
    if api_key:
        params.api_keys = [api_key]

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = xllamacpp.Server(params)  # returns once the model is loaded and the port listens
    print(f"ideaforge local model {args.alias!r} serving on {server.listening_address}", flush=True)
    while not stop.wait(1.0):
        pass


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    code = 0
    try:
        serve(args)
    except Exception as exc:  # reported in the server log, which the manager shows on failure
        print(f"ideaforge local model server failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    finally:
        _remove_pid_file(args.pid_file)
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)  # skip llama.cpp's static destructors; the OS frees the model


if __name__ == "__main__":
    main()
