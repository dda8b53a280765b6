"""Print the requirements of the package and of the extras named on the command line, one per
line, read from pyproject.toml (so the Makefile installs what the package declares, not a list of
its own)."""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: pip vendors the same parser
    from pip._vendor import tomli as tomllib  # type: ignore[no-redef]


def main(extras: list[str]) -> int:
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            print(f"unknown extra '{extra}'; extras are {', '.join(optional)}", file=sys.stderr)
            return 2
        reqs += optional[extra]
    build = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["build-system"]
    reqs += build["requires"]
    print("\n".join(dict.fromkeys(reqs)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
