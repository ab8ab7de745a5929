"""The token service as a process: cheroot (CherryPy's threaded WSGI server) serving :class:`TokenService`.

``portside workshop up`` starts it in the background as ``python -m portside.room.server FOLDER``, where
``FOLDER`` is the room's state folder (its ``room.json``, signing key and password hashes). It serves
TLS with the room's certificate when the room does, and stops on SIGTERM or SIGINT (cheroot's
``safe_start`` shuts down on either).
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from portside.room.accounts import Accounts
from portside.room.service import TokenService, TokenSettings
from portside.room.settings import RoomSettings
from portside.room.tokens import load_signing_key

__all__ = ["build_server", "main"]

#: worker threads: a room of 30 learners pushing at once asks for a few tokens each at a time
THREADS = 32
#: the listen backlog: cheroot's default of 5 drops connections when a room of 30 connects at once, and each
#: dropped one waits TCP's 1 s retry (token p95 1.1 s → 61 ms with 128; docs/workshop-load.md)
BACKLOG = 128


def build_server(folder: Path) -> wsgi.Server:
    """The server for the room whose state is in ``folder`` (not started)."""
    settings = RoomSettings.load(folder)
    app = TokenService(TokenSettings(settings.service, settings.issuer, settings.ttl),
                       load_signing_key(folder / "keys"), Accounts(folder).hashes(), folder / "reports")
    server = wsgi.Server((settings.listen, settings.token_port), app, numthreads=THREADS,
                         server_name="portside-room-tokens", request_queue_size=BACKLOG)
    if settings.tls:
        server.ssl_adapter = BuiltinSSLAdapter(str(folder / "tls" / "server.crt"), str(folder / "tls" / "server.key"))
    return server


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m portside.room.server ROOM_FOLDER")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    server = build_server(Path(args[0]))

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)  # safe_start() stops the server cleanly on SystemExit and KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"portside room token service on {server.bind_addr}", flush=True)
    server.safe_start()


if __name__ == "__main__":
    main()
