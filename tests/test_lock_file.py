"""The lock files pin what pyproject.toml asks for, and the test environment is the lock's.

`.ci/lock` writes `requirements/runtime.lock` and `requirements/test.lock` from
pyproject.toml (uv, universal, with hashes); `.ci/setup` installs the test lock and the
Dockerfile the runtime one. These tests fail when a dependency changes in pyproject.toml
without the lock, or when the environment running them was not installed from it.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]*?))?\s*\\?$")


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    marker: Marker | None

    def applies(self) -> bool:
        return self.marker is None or self.marker.evaluate()


def read_lock(path: Path) -> list[Pin]:
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            name, version, marker = match.groups()
            pins.append(
                Pin(canonicalize_name(name), Version(version), Marker(marker) if marker else None)
            )
    return pins


def wanted(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    if extra:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(("lock", "extra"), [("runtime.lock", None), ("test.lock", "test")])
def test_every_requirement_is_pinned_within_its_range(lock: str, extra: str | None) -> None:
    pins = read_lock(ROOT / "requirements" / lock)
    assert len(pins) > 20, f"{lock} pins almost nothing: was it written by .ci/lock?"
    by_name: dict[str, list[Pin]] = {}
    for pin in pins:
        by_name.setdefault(pin.name, []).append(pin)
    problems = []
    for requirement in wanted(extra):
        name = canonicalize_name(requirement.name)
        if name not in by_name:
            problems.append(f"{requirement} is not in {lock}")
            continue
        outside = [p for p in by_name[name] if p.version not in requirement.specifier]
        if outside:
            problems.append(f"{lock} pins {name}=={outside[0].version}, outside {requirement}")
    assert not problems, "run `bash .ci/lock` and commit the lock files:\n" + "\n".join(problems)


def test_the_runtime_lock_agrees_with_the_test_lock() -> None:
    test_pins = {(p.name, p.version) for p in read_lock(ROOT / "requirements" / "test.lock")}
    runtime = read_lock(ROOT / "requirements" / "runtime.lock")
    differing = [f"{p.name}=={p.version}" for p in runtime if (p.name, p.version) not in test_pins]
    assert not differing, "the two locks pin different versions (run `bash .ci/lock`): " + str(
        differing
    )


def test_this_environment_was_installed_from_the_test_lock() -> None:
    """CI installs from the lock; so must a developer who runs `bash .ci/setup`."""
    mismatched = []
    for pin in read_lock(ROOT / "requirements" / "test.lock"):
        if not pin.applies():
            continue
        try:
            installed = Version(importlib.metadata.version(pin.name))
        except importlib.metadata.PackageNotFoundError:
            mismatched.append(f"{pin.name} (locked {pin.version}) is not installed")
            continue
        if installed != pin.version:
            mismatched.append(f"{pin.name} {installed} is installed, the lock says {pin.version}")
    assert not mismatched, "run `bash .ci/setup` to install the lock:\n" + "\n".join(mismatched)
