"""Dependencies past every known advisory: setup.cfg's floors, the constraints file and what is installed.

Offline: the advisories are the list shipped in startup/advisories.txt, kept by hand.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import re

from packaging.requirements import Requirement
from packaging.version import Version

from tests.helpers import ROOT


def advisories() -> list[tuple[str, Version, str]]:
    found = []
    for line in (ROOT / "startup" / "advisories.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            package, fixed, what = line.split(None, 2)
            found.append((package.lower(), Version(fixed), what))
    return found


def floors() -> dict[str, Requirement]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    lines = [line.strip() for line in parser["options"]["install_requires"].splitlines()]
    return {(r := Requirement(line)).name.lower(): r for line in lines if line and not line.startswith("#")}


def pins() -> dict[str, Version]:
    text = (ROOT / "startup" / "constraints.txt").read_text()
    return {m.group(1).lower(): Version(m.group(2)) for m in re.finditer(r"^([\w.-]+)==(\S+)$", text, re.M)}


def test_the_list_is_not_empty() -> None:
    assert len(advisories()) >= 10


def test_floors_pins_and_installed_packages_are_past_every_advisory() -> None:
    requirements, pinned = floors(), pins()
    for package, fixed, what in advisories():
        installed = Version(importlib.metadata.version(package))
        assert installed >= fixed, f"{package} {installed} installed: {what} is fixed in {fixed}"
        assert pinned[package] >= fixed, f"startup/constraints.txt pins {package} below {fixed}: {what}"
        if package in requirements:
            lowest = [Version(s.version) for s in requirements[package].specifier if s.operator in (">=", "==")]
            assert lowest and min(lowest) >= fixed, f"setup.cfg lets {package} below {fixed}: {what}"


def test_every_direct_dependency_is_pinned_and_the_pins_agree_with_setup_cfg() -> None:
    pinned = pins()
    for name, requirement in floors().items():
        assert name in pinned, f"{name} is not in startup/constraints.txt"
        assert requirement.specifier.contains(pinned[name]), f"{name}=={pinned[name]} breaks setup.cfg's {requirement}"


def test_the_suite_can_keep_the_lights_tests_together() -> None:
    """pytest-xdist's loadgroup (the lights' tests on one worker) works only with pytest before 9."""
    import pytest

    assert Version(pytest.__version__) < Version("9"), "pytest 9 breaks --dist loadgroup: pin pytest<9"
