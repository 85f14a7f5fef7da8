"""A stand-in for `python -m ideaforge.local_model.launch`: a tiny OpenAI-like HTTP server.

Modes (`--mode`): ok (healthy), never-ready (/health answers 503 forever), exit (dies at once),
slow (waits a second before listening). Each start appends a line to $FAKE_LAUNCH_LOG.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--alias", required=True)
    parser.add_argument("--port", type=int, required=True)
    args, _ = parser.parse_known_args()
    log = os.environ.get("FAKE_LAUNCH_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {args.mode}\n")
    if args.mode == "exit":
        print("fake launcher: cannot load model", file=sys.stderr)
        sys.exit(3)
    if args.mode == "slow":
        time.sleep(1.0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                code, body = (
                    (503, {"error": "loading"}) if args.mode == "never-ready" else (200, {"status": "ok"})
                )
            elif self.path == "/v1/models":
                code, body = 200, {"object": "list", "data": [{"id": args.alias, "object": "model"}]}
            else:
                code, body = 404, {"error": "not found"}
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *a: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"fake server on {args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
