"""Free-port lookup and a clear message when a wanted port is taken."""

from __future__ import annotations

import socket

from ladder.errors import ConfigError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def require_free(port: int, what: str, host: str = "127.0.0.1") -> int:
    if port_in_use(port, host):
        raise ConfigError(
            f"port {port} on {host} is in use, so {what} cannot start there: "
            f"stop whatever holds it (`ss -ltnp 'sport = :{port}'`) or choose another port."
        )
    return port
