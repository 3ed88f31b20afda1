"""`turnout dev --check` boots everything on fresh embedded engines, proves one event end to
end, prints a line per component, stops everything and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psutil
import pytest

pytestmark = pytest.mark.integration


def _children_of_data_dir(data_dir) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(data_dir) in cmdline:
            found.append(process)
    return found


def test_dev_check_boots_verifies_and_stops_everything(tmp_path):
    data_dir = tmp_path / "dev"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TURNOUT_")}
    env["TURNOUT_GATEWAY_PORT"] = "0"
    env["COLUMNS"] = "200"
    result = subprocess.run([sys.executable, "-m", "turnout.cli", "dev", "--check", "--no-durable",
                             "--data-dir", str(data_dir)], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    for component in ("postgres", "redis", "kafka", "migrations", "event-service", "event-relay",
                      "participant-service", "participant-relay", "reporting-service", "projector", "gateway",
                      "end-to-end"):
        assert component in result.stdout, f"{component} missing from the summary:\n{result.stdout}"
    assert not (data_dir / "stack.json").exists(), "stack.json must go when the stack stops"
    assert _children_of_data_dir(data_dir) == [], "turnout dev left processes running"


def test_dev_refuses_a_taken_gateway_port_in_one_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TURNOUT_")}
        port = taken.getsockname()[1]
        env["TURNOUT_GATEWAY_PORT"] = str(port)
        result = subprocess.run([sys.executable, "-m", "turnout.cli", "dev", "--check", "--data-dir",
                                 str(tmp_path / "dev")], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"turnout: TURNOUT_GATEWAY_PORT: port {port} on 127.0.0.1 is already in use"
    ]


def _boot_dev(data_dir) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TURNOUT_")}
    env["TURNOUT_GATEWAY_PORT"] = "0"
    process = subprocess.Popen([sys.executable, "-m", "turnout.cli", "dev", "--no-durable", "--data-dir", str(data_dir)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from kernel.devstack.processes import wait_until

    wait_until(lambda: (data_dir / "stack.json").exists() or process.poll() is not None, timeout=120,
               what="turnout dev ready")
    assert process.poll() is None, f"turnout dev exited with {process.returncode}"
    return process


def _assert_demo_data(data_dir) -> None:
    """The stack.json a running `turnout dev` writes is enough to use it: URL and secret."""
    import json

    import httpx

    from kernel.auth import issue_token

    stack = json.loads((data_dir / "stack.json").read_text())
    token = issue_token(stack["env"]["TURNOUT_AUTH_SECRET"], sub="test", roles=["admin"])
    answer = httpx.get(f"{stack['urls']['gateway']}/v1/events", headers={"Authorization": f"Bearer {token}"})
    titles = {e["title"]: e for e in answer.json()["events"]}
    debate = titles["Дебаты: кейсы партнёров"]
    assert sorted(p["limit"] for p in debate["pools"]) == [41, 42]
    assert debate["max_sessions_per_participant"] == 1
    assert titles["Быстрые знакомства"]["rounds"] == {"round_minutes": 7, "break_minutes": 3, "group_size": 6}
    venues = httpx.get(f"{stack['urls']['gateway']}/v1/venues", headers={"Authorization": f"Bearer {token}"})
    assert {"Цветной", "Гиляровского", "Ясная"} <= {v["name"] for v in venues.json()["venues"]}


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def test_ctrl_c_stops_every_child(tmp_path):
    process = _boot_dev(tmp_path / "dev")
    _assert_demo_data(tmp_path / "dev")
    children = _descendants(process.pid)
    names = " ".join(" ".join(c.cmdline()) for c in children)
    for expected in ("postgres", "redis-server", "tansu", "serve gateway", "serve projector", "serve event-relay"):
        assert expected in names, f"{expected} is not running under turnout dev"
    process.send_signal(signal.SIGINT)
    assert process.wait(60) == 0
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left running after Ctrl-C: {[p.cmdline() for p in alive]}"


def test_a_killed_dev_process_leaves_nothing_running(tmp_path):
    process = _boot_dev(tmp_path / "dev")
    children = _descendants(process.pid)
    process.kill()
    process.wait(10)
    _, alive = psutil.wait_procs(children, timeout=20)
    assert alive == [], f"left running after SIGKILL of turnout dev: {[p.cmdline() for p in alive]}"
