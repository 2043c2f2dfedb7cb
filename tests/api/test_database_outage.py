"""With the database unreachable the API answers 503 with Retry-After (never a 500), and it serves again
once the database is back, without a restart. The outage is real: the app reaches PostgreSQL through a
TCP relay on this machine that the test cuts (connections dropped, new ones refused) and restores."""

from __future__ import annotations

import contextlib
import socket
import threading

from fastapi.testclient import TestClient
from sqlalchemy import make_url

import database
from api.main import create_app
from tests.api import contract
from tests.api.conftest import LIMITLESS, SECRET, register


class Relay:
    """A TCP relay from 127.0.0.1:<port> to the database server (TCP or its Unix socket)."""

    def __init__(self, upstream: tuple[int, object]) -> None:
        self.family, self.address = upstream
        self.port = 0
        self.open: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port, self.listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.socket(self.family)
            server.connect(self.address)
            self.open += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """The database goes away: the listener closes (new connections are refused), live ones drop."""
        assert self.listener is not None
        # shutdown() wakes the thread blocked in accept(); close() alone leaves that accept() taking connections.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for connection in self.open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self.open.clear()


def relayed(url: str) -> tuple[Relay, str]:
    parsed = make_url(url)
    socket_dir = parsed.query.get("host")
    port = parsed.port or 5432
    if socket_dir:
        upstream: tuple[int, object] = (socket.AF_UNIX, f"{socket_dir}/.s.PGSQL.{port}")
    else:
        upstream = (socket.AF_INET, (parsed.host or "127.0.0.1", port))
    relay = Relay(upstream)
    relay.start()
    through = parsed.set(host="127.0.0.1", port=relay.port, query={})
    return relay, through.render_as_string(hide_password=False)


def test_a_database_outage_is_503_with_retry_after_and_the_api_recovers_without_a_restart(api_engine, module_db_url):
    relay, url = relayed(module_db_url)
    engine = database.get_engine(url, migrate=False)
    app = create_app(engine, jwt_secret=SECRET, limits=LIMITLESS)
    client = TestClient(app, raise_server_exceptions=False)
    contract.enforce(client, app.openapi())
    member = register(client)
    assert client.get("/v1/plans").status_code == 200

    relay.cut()
    for answer in (client.get("/v1/plans"), client.get("/v1/me", headers=member["headers"])):
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "database_unavailable"
        assert int(answer.headers["Retry-After"]) > 0

    relay.start()  # the database is back, on the same address
    assert client.get("/v1/plans").status_code == 200
    assert client.get("/v1/me", headers=member["headers"]).json()["user_id"] == member["user"]["user_id"]
    engine.dispose()
