"""Throwaway Mosquitto and NATS servers on loopback, for the tests and the benchmark.

Each server gets free ports and its own temporary config and state directory; `stop()` (or the
context manager) kills it and removes the directory. Needs Debian's `mosquitto` and
`nats-server` (scripts/system-deps.sh).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Server:
    name: str
    argv: list[str]
    ports: dict[str, int]
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, wait_port: str) -> Server:
        log = (self.directory / f"{self.name}.log").open("wb")
        # The argv is built here from fixed program names and generated paths.
        self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        wait_for_port(self.ports[wait_port])
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_text(self) -> str:
        path = self.directory / f"{self.name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class Brokers:
    """A set of servers sharing one temporary directory."""

    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="anxin-mq-")))
    servers: list[Server] = field(default_factory=list)

    def mosquitto(self, *, max_inflight: int = 1000) -> Server:
        port = free_port()
        conf = self.directory / f"mosquitto-{port}.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            f"max_inflight_messages {max_inflight}\n"
            "max_queued_messages 1000000\n"
            "max_packet_size 2000000\n"
        )
        server = Server(
            f"mosquitto-{port}", ["mosquitto", "-c", str(conf)], {"mqtt": port}, self.directory
        )
        self.servers.append(server)
        return server.start("mqtt")

    def nats(self, *, mqtt: bool = True, max_ack_pending: int = 1000) -> Server:
        ports = {"client": free_port(), "mqtt": free_port()}
        name = f"nats-{ports['client']}"
        store = self.directory / name
        mqtt_block = (
            f"mqtt {{ listen: 127.0.0.1:{ports['mqtt']}\n max_ack_pending: {max_ack_pending} }}\n"
            if mqtt
            else ""
        )
        conf = self.directory / f"{name}.conf"
        conf.write_text(
            f"server_name: {name}\nlisten: 127.0.0.1:{ports['client']}\n"
            f'jetstream {{ store_dir: "{store}" }}\n{mqtt_block}'
        )
        server = Server(name, ["nats-server", "-c", str(conf)], ports, self.directory)
        self.servers.append(server)
        return server.start("client")

    def nats_cluster(self, size: int = 3) -> list[Server]:
        """A JetStream cluster of `size` nodes with routes between all of them."""
        nodes = [{"client": free_port(), "cluster": free_port(), "index": i} for i in range(size)]
        routes = ", ".join(f"nats://127.0.0.1:{n['cluster']}" for n in nodes)
        servers = []
        for node in nodes:
            name = f"n{node['index']}-{node['client']}"
            conf = self.directory / f"{name}.conf"
            conf.write_text(
                f"server_name: {name}\nlisten: 127.0.0.1:{node['client']}\n"
                f'jetstream {{ store_dir: "{self.directory / name}" }}\n'
                f"cluster {{ name: anxin\n listen: 127.0.0.1:{node['cluster']}\n"
                f" routes: [{routes}] }}\n"
            )
            server = Server(
                name,
                ["nats-server", "-c", str(conf)],
                {"client": node["client"], "cluster": node["cluster"]},
                self.directory,
            )
            self.servers.append(server)
            servers.append(server.start("client"))
        return servers

    def close(self) -> None:
        for server in self.servers:
            server.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Brokers:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()
