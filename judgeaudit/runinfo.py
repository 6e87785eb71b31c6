"""What a run directory or report records about where it was made.

:func:`environment` gives the Python version, package versions and the git revision of
the judgeaudit checkout (``None`` when it is not one).  The audit report, the coherence
calibration report and every fine-tuning run folder record it.

>>> env = environment()
>>> sorted(env)
['git_revision', 'packages', 'python']
"""

from __future__ import annotations

__all__ = ["CORE_PACKAGES", "environment", "package_version"]

#: The packages judgeaudit's core needs; recorded by default.
CORE_PACKAGES = ("numpy", "pandas", "scipy", "krippendorff", "pyarrow")


def environment(*, packages=CORE_PACKAGES) -> dict:
    """``{"python", "packages": {name: version or None}, "git_revision"}``."""
    import platform
    import subprocess
    from importlib.metadata import PackageNotFoundError, version
    from pathlib import Path

    versions = {}
    for name in packages:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    revision = None
    root = Path(__file__).resolve().parent.parent
    if (root / ".git").exists():
        try:
            done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                  text=True, timeout=5)
            revision = done.stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            revision = None
    return {"python": platform.python_version(), "packages": versions, "git_revision": revision}


def package_version() -> str:
    """judgeaudit's installed version, or ``"unknown"`` in a source tree never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("judgeaudit")
    except PackageNotFoundError:
        return "unknown"
