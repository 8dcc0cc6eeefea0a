"""Observability commands: ``ladder metrics`` serves Ladder's Prometheus metrics."""

from __future__ import annotations

import click


@click.command()
@click.option("--port", type=int, default=9464, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True)
def metrics(port: int, address: str) -> None:
    """Serve /metrics: every worker's counters and histograms summed, plus queue depth and circuits."""
    from prometheus_client import start_http_server

    from ladder.config import get_config
    from ladder.settings import get_settings
    from ladder.stack.ports import require_free
    from worker.app import ROUTE_QUEUE, tier_queue
    from worker.audit import AUDIT_QUEUE
    from worker.metrics import metrics_root, scrape_registry

    get_settings().require_urls()
    config = get_config()
    tiers = list(range(1, config.top_tier + 1))
    queues = [ROUTE_QUEUE] + [tier_queue(n) for n in tiers] + [AUDIT_QUEUE]
    root = metrics_root()
    root.mkdir(parents=True, exist_ok=True)
    require_free(port, "ladder metrics", address)
    server, thread = start_http_server(port, address, registry=scrape_registry(root, queues, tiers, config.health))
    click.echo(f"serving http://{address}:{port}/metrics (worker files under {root})", err=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()


COMMANDS = [metrics]
