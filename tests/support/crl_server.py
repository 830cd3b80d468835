#!/usr/bin/env python3
"""An HTTP server for dpgcert's online revocation tests, on 127.0.0.1 and a free port (port 0).

Serves the files of --dir and misbehaves on request, by path:
  /NAME                  the file, with an ETag and Last-Modified; If-None-Match / If-Modified-Since -> 304
  /big/N                 N bytes with a Content-Length
  /chunked/N             N bytes chunked (no Content-Length)
  /redirect/K/NAME       K redirects (302) before /NAME
  /slow/SECONDS/NAME     waits, then serves /NAME
  /to-ftp/NAME           a redirect to ftp://
  POST /replay/NAME      answers the file NAME (an OCSP response recorded earlier) whatever was asked
Prints "PORT <n>" when it listens; appends one line per request ("METHOD PATH") to --log when given.
Stopped by its PID (SIGTERM).
"""
import argparse
import email.utils
import hashlib
import http.server
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--log", default="")
    args = ap.parse_args()
    root = os.path.abspath(args.dir)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def note(self):
            if args.log:
                with open(args.log, "a") as f:
                    f.write(f"{self.command} {self.path}\n")

        def send_bytes(self, data, ctype="application/pkix-crl", extra=()):
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def serve_file(self, name):
            path = os.path.join(root, os.path.basename(name))
            if not os.path.isfile(path):
                self.send_error(404)
                return
            data = open(path, "rb").read()
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            modified = email.utils.formatdate(int(os.path.getmtime(path)), usegmt=True)
            if self.headers.get("If-None-Match") == etag or (
                self.headers.get("If-Modified-Since") == modified and not self.headers.get("If-None-Match")
            ):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_bytes(data, extra=(("ETag", etag), ("Last-Modified", modified)))

        def do_GET(self):
            self.note()
            parts = self.path.strip("/").split("/")
            if parts[0] == "big":
                n = int(parts[1])
                self.send_response(200)
                self.send_header("Content-Length", str(n))
                self.end_headers()
                try:
                    self.wfile.write(b"0" * n)
                except OSError:
                    pass
            elif parts[0] == "chunked":
                n = int(parts[1])
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    sent = 0
                    while sent < n:
                        k = min(16384, n - sent)
                        self.wfile.write(b"%x\r\n" % k + b"0" * k + b"\r\n")
                        sent += k
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass
            elif parts[0] == "redirect":
                k = int(parts[1])
                target = "/" + "/".join(parts[2:]) if k <= 1 else f"/redirect/{k - 1}/" + "/".join(parts[2:])
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif parts[0] == "slow":
                time.sleep(float(parts[1]))
                self.serve_file(parts[2])
            elif parts[0] == "to-ftp":
                self.send_response(302)
                self.send_header("Location", "ftp://127.0.0.1/" + parts[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.serve_file(parts[-1])

        def do_POST(self):
            self.note()
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            parts = self.path.strip("/").split("/")
            if parts[0] == "replay":
                path = os.path.join(root, os.path.basename(parts[1]))
                self.send_bytes(open(path, "rb").read(), "application/ocsp-response")
            else:
                self.send_error(404)

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # a client that stops reading (a capped or timed-out fetch) is what the tests do

    server = Server(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
