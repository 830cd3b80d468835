#!/usr/bin/env python3
"""A webhook receiver for dpgcert's delivery tests, on 127.0.0.1 and a free port (port 0).

It verifies each request's Standard Webhooks signature (webhook-id, webhook-timestamp,
webhook-signature "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>", the key the base64 after
"whsec_"), answers with the statuses of --plan in turn (the last one repeated), and appends one JSON
line per request to --log. Prints "PORT <n>" when it listens. Stopped by its PID (SIGTERM).
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secret", required=True)
    ap.add_argument("--plan", default="204", help="comma-separated statuses, one per request")
    ap.add_argument("--retry-after", default="", help="a Retry-After value sent with every status >= 400")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering")
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    key = base64.b64decode(args.secret.removeprefix("whsec_"))
    plan = [int(s) for s in args.plan.split(",")]
    count = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            wid = self.headers.get("webhook-id", "")
            ts = self.headers.get("webhook-timestamp", "")
            sig = self.headers.get("webhook-signature", "")
            want = base64.b64encode(hmac.new(key, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
            ok = any(part.startswith("v1,") and hmac.compare_digest(part[3:], want) for part in sig.split(" "))
            fresh = ts.isdigit() and abs(time.time() - int(ts)) < 300
            try:
                body_id = json.loads(body).get("id")
            except ValueError:
                body_id = None
            status = plan[min(count[0], len(plan) - 1)]
            count[0] += 1
            with open(args.log, "a") as f:
                f.write(json.dumps({"id": wid, "timestamp": ts, "signature_ok": ok, "fresh": fresh,
                                    "body_id": body_id, "status": status,
                                    "content_type": self.headers.get("Content-Type")}) + "\n")
            if args.delay:
                time.sleep(args.delay)
            self.send_response(status if ok else 401)
            if status >= 400 and args.retry_after:
                self.send_header("Retry-After", args.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
