#!/usr/bin/env python3
"""An SMTP server for dpgcert's delivery tests (Debian's python3-aiosmtpd), on 127.0.0.1 and a free
port (port 0).

Each message accepted is written to --dir as <n>.eml (the DATA as received) with <n>.json beside it
(envelope sender, recipients, whether and as whom the client authenticated); a message refused, as
refused-<n>.eml. <n> counts DATA commands from 0. --plan gives the reply
to each DATA in turn (250, 451, 550; the last one repeated); --auth USER:PASSWORD makes AUTH
mandatory (PLAIN and LOGIN, offered without TLS since everything stays on this host). Prints
"PORT <n>" when it listens. Stopped by its PID (SIGTERM).
"""
import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--plan", default="250", help="comma-separated replies to DATA, one per message")
    ap.add_argument("--auth", default="", help="USER:PASSWORD: require AUTH with these")
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # AUTH without TLS: deliberate, on 127.0.0.1 only
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    plan = [int(s) for s in args.plan.split(",")]
    count = [0]
    want_user, _, want_password = args.auth.partition(":")

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            code = plan[min(count[0], len(plan) - 1)]
            n = count[0]
            count[0] += 1
            if code != 250:
                with open(os.path.join(args.dir, f"refused-{n}.eml"), "wb") as f:
                    f.write(envelope.original_content)
                return f"{code} {'try again later' if code < 500 else 'refused for good'}"
            with open(os.path.join(args.dir, f"{n}.eml"), "wb") as f:
                f.write(envelope.original_content)
            login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
            with open(os.path.join(args.dir, f"{n}.json"), "w") as f:
                json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                           "authenticated": session.authenticated, "login": login}, f)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == want_user
              and auth_data.password.decode() == want_password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    kwargs = {}
    if args.auth:
        kwargs = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Handler()
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(handler, hostname="localhost", **kwargs), "127.0.0.1", 0))
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    sys.exit(main())
