"""The lockstep version scheme: one PEP 440 version, and the matching ``version_info``."""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

# Pre-release kinds map to negative fourth elements so that tuples compare in
# release order: 7.0.0.dev0 < 7.0.0a1 < 7.0.0b1 < 7.0.0rc1 < 7.0.0.
_PRE_BASE = {"a": -80, "b": -50, "rc": -20}
_DEV = -100


def parse(version: str) -> Version:
    """Parse *version*; raise ValueError with a readable message if it is not PEP 440."""
    try:
        return Version(version)
    except InvalidVersion as e:
        raise ValueError(f"not a PEP 440 version: {version!r}") from e


def version_info_for(version: str) -> tuple[int, int, int, int]:
    """The ``tornado.version_info`` tuple for *version*.

    >>> version_info_for("7.0.0")
    (7, 0, 0, 0)
    >>> version_info_for("7.0.0.dev0")
    (7, 0, 0, -100)
    """
    v = parse(version)
    major, minor, micro = (*v.release, 0, 0)[:3]
    if v.dev is not None:
        fourth = _DEV
    elif v.pre is not None:
        kind, number = v.pre
        fourth = _PRE_BASE[kind] + number
    elif v.post is not None:
        fourth = v.post
    else:
        fourth = 0
    return (major, minor, micro, fourth)
