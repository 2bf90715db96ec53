"""cluster.yaml is what `ray up` accepts, starts a gateway on every node, and documents real settings."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

from gateway.auth import AuthSettings
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG: dict[str, Any] = yaml.safe_load((ROOT / "cluster.yaml").read_text())
ATELIER: dict[str, Any] = CONFIG["metadata"]["atelier"]
RAY_QUIET = ("RAY_USAGE_STATS_ENABLED=0", "RAY_AUTH_MODE=disabled")


def _commands() -> list[str]:
    keys = (
        "initialization_commands",
        "setup_commands",
        "head_setup_commands",
        "worker_setup_commands",
        "head_start_ray_commands",
        "worker_start_ray_commands",
    )
    return [command for key in keys for command in CONFIG.get(key, [])]


def _option(command: str, name: str) -> str:
    found = re.search(rf"--{name}=(\S+)", command)
    assert found, f"--{name} missing in {command!r}"
    return found.group(1)


def test_ray_cluster_launcher_accepts_it() -> None:
    # What `ray up` does with the file before it touches a node: fill defaults, then
    # check it against Ray's own schema (ray/autoscaler/ray-schema.json).
    prepared = prepare_config(copy.deepcopy(CONFIG))
    validate_config(prepared)
    assert CONFIG["provider"]["type"] == "local"
    assert CONFIG["provider"]["head_ip"]
    assert CONFIG["provider"]["worker_ips"]
    assert prepared["available_node_types"]["local.cluster.node"]["max_workers"] == len(
        CONFIG["provider"]["worker_ips"]
    )


def test_every_command_is_valid_shell() -> None:
    bash = shutil.which("bash")
    assert bash is not None
    for command in _commands():
        result = subprocess.run([bash, "-n", "-c", command], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"{command!r}: {result.stderr}"


@pytest.mark.parametrize("key", ["head_start_ray_commands", "worker_start_ray_commands"])
def test_every_node_starts_ray_then_a_gateway_joining_it(key: str) -> None:
    commands: list[str] = CONFIG[key]
    ray_start = next(c for c in commands if "ray start" in c)
    gateway = commands[-1]
    assert commands.index(ray_start) < len(commands) - 1
    for command in (ray_start, gateway):
        assert all(flag in command for flag in RAY_QUIET), command
    ports = ATELIER["ports"]
    if key == "head_start_ray_commands":
        assert "--head" in ray_start
        assert int(_option(ray_start, "port")) == ports["ray_gcs"]
        assert _option(ray_start, "include-dashboard") == "false"
    else:
        assert _option(ray_start, "address") == f"$RAY_HEAD_IP:{ports['ray_gcs']}"
    assert int(_option(ray_start, "object-manager-port")) == ports["ray_object_manager"]
    assert int(_option(ray_start, "node-manager-port")) == ports["ray_node_manager"]
    assert "atelier serve" in gateway
    assert "RAY_ADDRESS=auto" in gateway
    assert f"ATELIER_PORT={ports['gateway']}" in gateway
    assert "ATELIER_HOST=0.0.0.0" in gateway
    assert f". {ATELIER['env_file']};" in gateway  # the deployment's settings, read by every gateway
    assert "pkill" not in gateway
    assert "killall" not in gateway


def test_the_settings_file_reaches_every_node() -> None:
    assert CONFIG["file_mounts"][ATELIER["env_file"]] == "./atelier.env"
    assert any("pip install" in c and "/opt/atelier" in c for c in CONFIG["setup_commands"])
    assert CONFIG["file_mounts"]["/opt/atelier"] == "."


def test_documented_environment_names_real_settings_with_accepted_values(tmp_path: Path) -> None:
    env: dict[str, str] = {name: str(value) for name, value in ATELIER["environment"].items()}
    for required in ("DATABASE_URL", "REDIS_URL", "ATELIER_AUTH_SECRET", "ATELIER_WORKSPACE_SIGNING_SECRET"):
        assert required in env, f"{required} undocumented"
    sources = "\n".join(
        path.read_text()
        for package in ("actors", "gateway", "storage")
        for path in (ROOT / package).rglob("*.py")
    )
    for name in env:
        assert f'"{name}"' in sources, f"{name} is not a setting atelier reads"
    settings = Settings.from_env(env)
    assert settings.storage.database_url == env["DATABASE_URL"]
    assert settings.storage.redis_url == env["REDIS_URL"]
    assert settings.actors.namespace == env["ATELIER_RAY_NAMESPACE"]
    assert settings.actors.workspace.signing_secret is not None
    auth = AuthSettings.from_env(env, tmp_path)
    assert auth.secret == env["ATELIER_AUTH_SECRET"]
