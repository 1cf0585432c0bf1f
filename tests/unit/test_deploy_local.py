"""deploy/local's shell helpers, run by bash as the scripts run them."""

import os
import subprocess
import time
from pathlib import Path

LIB = Path(__file__).resolve().parents[2] / "deploy" / "local" / "lib.sh"


def pid_alive(pid: int, tmp_path: Path) -> bool:
    pidfile = tmp_path / "service.pid"
    pidfile.write_text(f"{pid}\n")
    script = f'source "{LIB}"; pid_alive "{pidfile}"'
    env = {**os.environ, "AAP_VAR": str(tmp_path / "var")}
    return subprocess.run(["bash", "-c", script], env=env).returncode == 0


def test_a_live_process_is_alive(tmp_path):
    with subprocess.Popen(["sleep", "30"]) as process:
        try:
            assert pid_alive(process.pid, tmp_path)
        finally:
            process.kill()


def test_a_process_killed_but_not_yet_reaped_is_not_alive(tmp_path):
    # given a service killed with SIGKILL whose parent has not reaped it yet (a zombie)
    process = subprocess.Popen(["sleep", "30"])
    process.kill()
    deadline = time.monotonic() + 10
    while "Z" not in Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1][:3]:
        assert time.monotonic() < deadline, "the process never became a zombie"
        time.sleep(0.05)
    try:
        # then the scripts see it dead, and `services.sh start` starts it again
        assert not pid_alive(process.pid, tmp_path)
    finally:
        process.wait()


def test_a_pid_nobody_has_is_not_alive(tmp_path):
    with subprocess.Popen(["true"]) as process:
        process.wait()
    assert not pid_alive(process.pid, tmp_path)


def test_the_development_ports_lie_below_the_kernels_client_ports():
    low, _ = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    scripts = {
        name: (LIB.parent / name).read_text() for name in ("kafka.sh", "postgres.sh", "smtp.sh")
    }
    for name, port in (
        ("kafka.sh", 29092),
        ("kafka.sh", 29093),
        ("postgres.sh", 25432),
        ("smtp.sh", 25025),
    ):
        assert f":-{port}}}" in scripts[name], f"{name} defaults to another port than {port}"
        assert port < low
