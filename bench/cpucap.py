"""CPU quotas for the servers a benchmark compares, through Linux control groups.

On a machine with two cores shared by the hubs, PostgreSQL, Redis and the load generator, one
hub process already takes a core, so a second process has nothing to scale onto: two against
one would measure the machine, not Charla. With every server (each hub, and each ceiling
server beside it) held to the same fraction of a core, the servers are the bottleneck and the
rest of the machine has room, so two against one measures what a second process adds.

cgroup v1's `cpu` controller (`cpu.cfs_quota_us`, used here) or cgroup v2's `cpu.max` (not
tried: this machine mounts v1 for cpu), whichever is mounted; both need root.
`CpuCap.why_not()` says why capping is impossible here.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

# The scheduler's accounting period. A capped process runs `cores` of each period, then
# waits for the next: with the default 100 ms a process at 0.35 CPU stalls 65 ms at a time,
# which costs a server answering 200 waiting clients more than its share (its ceiling
# measured 0.9 of linear alone, and two of them scaled 2.3 times); 10 ms keeps stalls short.
PERIOD_US = 10_000


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, filesystem type, options) of every cgroup mount."""
    out = []
    with open("/proc/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            _, point, kind, options, *_ = line.split()
            if kind in ("cgroup", "cgroup2"):
                out.append((point, kind, options))
    return out


def _cpu_root() -> tuple[Path, int] | None:
    """The cgroup hierarchy that controls CPU, and its version (1 or 2)."""
    for point, kind, options in _mounts():
        if kind == "cgroup" and "cpu" in options.split(","):
            return Path(point), 1
    for point, kind, _ in _mounts():
        controllers = Path(point) / "cgroup.controllers"
        if kind == "cgroup2" and controllers.exists() and "cpu" in controllers.read_text().split():
            return Path(point), 2
    return None


class CpuCap:
    """Each process given to `limit` gets a group of its own holding it to `cores` CPUs."""

    def __init__(self, cores: float, label: str = "charla-bench") -> None:
        found = _cpu_root()
        if found is None:
            raise RuntimeError(self.why_not() or "no cgroup CPU controller")
        self.root, self.version = found
        self.cores = cores
        self.label = label
        self.groups: list[Path] = []

    @staticmethod
    def why_not() -> str | None:
        """None when processes can be capped here; else the reason."""
        found = _cpu_root()
        if found is None:
            return "no cgroup hierarchy with the cpu controller is mounted"
        root, version = found
        if not os.access(root, os.W_OK):
            return f"{root} is not writable (capping needs root)"
        subtree = root / "cgroup.subtree_control"
        if version == 2 and "cpu" not in subtree.read_text().split():
            return f"the cpu controller is not enabled for child groups: echo +cpu > {subtree}"
        return None

    def limit(self, pid: int) -> None:
        group = self.root / f"{self.label}-{os.getpid()}-{pid}"
        group.mkdir(exist_ok=True)
        quota = max(1000, int(self.cores * PERIOD_US))
        if self.version == 1:
            (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(str(quota))
        else:
            (group / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        (group / "cgroup.procs").write_text(str(pid))
        self.groups.append(group)

    def release(self) -> None:
        """Remove the groups (their processes must have exited)."""
        for group in self.groups:
            for _ in range(50):  # a process just killed leaves its group a moment later
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                with contextlib.suppress(OSError):
                    group.rmdir()
        self.groups.clear()
