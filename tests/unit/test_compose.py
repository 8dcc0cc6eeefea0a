"""docker-compose.yml, checked without a Docker engine: it parses, its commands are
real ``ladder`` subcommands with valid options, its dependencies wait on health,
and every variable it uses is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import yaml

from ladder.cli.main import cli
from ladder.config import load_config
from ladder.settings import BUNDLED_CONFIG

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCS = ROOT / "docs" / "configuration.md"


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def ladder_services(services: dict) -> dict:
    """The services that run the project's own image (entrypoint ``ladder``)."""
    return {name: s for name, s in services.items() if s.get("image", "").startswith("ladder")}


def test_every_ladder_command_is_a_real_subcommand_with_valid_options(services):
    # Given each service that runs the ladder image
    commands = ladder_services(services)
    assert commands, "no service runs the ladder image"
    for name, service in commands.items():
        subcommand, *args = service["command"]
        # Then its command names a subcommand of the click group
        assert subcommand in cli.commands, f"{name}: `ladder {subcommand}` does not exist"
        # And its options parse (make_context parses without running anything)
        try:
            cli.commands[subcommand].make_context(subcommand, list(args))
        except click.UsageError as exc:
            pytest.fail(f"{name}: `ladder {' '.join(service['command'])}` does not parse: {exc}")


def test_one_scalable_worker_service_per_tier_one_for_routing_and_one_for_audits(services):
    # Given the bundled config's tiers
    top = load_config(BUNDLED_CONFIG).top_tier
    workers = {name: s for name, s in ladder_services(services).items() if s["command"][0] == "worker"}
    # Then the workers cover the route queue (with the one beat), the audits and each tier exactly once
    served = sorted(" ".join(s["command"][1:]) for s in workers.values())
    assert served == sorted(["--route --beat", "--audit"] + [f"--tier {n}" for n in range(1, top + 1)])
    # And each can be scaled: no fixed container name, no host port
    for name, service in workers.items():
        assert "container_name" not in service and "ports" not in service, f"{name} cannot be scaled"


def test_every_model_server_of_the_config_has_a_service(services):
    # Given the config's model servers, Then each one is run by a service
    wanted = {s.name for s in load_config(BUNDLED_CONFIG).model_servers}
    run = {s["command"][1] for s in ladder_services(services).values() if s["command"][0] == "model-server"}
    assert wanted == run


def test_dependencies_wait_for_health_or_completion(services):
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            # Then every dependency exists and is waited for by a condition it can meet
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            condition = rule["condition"]
            assert condition in ("service_healthy", "service_completed_successfully"), f"{name} -> {dependency}"
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck for {name} to wait on"


def test_every_variable_the_file_uses_is_documented():
    # Given the variables the compose file interpolates and sets
    raw = COMPOSE.read_text()
    referenced = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", raw))
    environment_keys = set()
    for service in yaml.safe_load(raw)["services"].values():
        environment_keys |= set(service.get("environment") or {})
    # Then each one appears in the configuration docs
    documented = DOCS.read_text()
    missing = sorted(v for v in referenced | environment_keys if f"`{v}`" not in documented)
    assert not missing, f"not documented in {DOCS.relative_to(ROOT)}: {missing}"


def test_the_image_builds_llama_cpp_portably():
    # Given the Dockerfile, Then llama.cpp is built without -march=native (which crashed here)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"CMAKE_ARGS=.*-DGGML_NATIVE=OFF", dockerfile)
