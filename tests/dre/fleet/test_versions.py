"""Software versions order as semantic versions where they parse, naturally otherwise."""

import pytest

from dre.fleet.versions import is_newer, version_key


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1.0.0-alpha", "1.0.0-alpha.1"),  # semver 11.4.4: fewer identifiers first
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"),  # numeric below alphanumeric
        ("1.0.0-beta.2", "1.0.0-beta.11"),  # numeric identifiers as numbers
        ("1.0.0-rc.1", "1.0.0"),  # a pre-release below its release
        ("1.9.0", "1.10.0"),
        ("v1.2.3", "1.2.4"),
        ("build 9", "build 10"),  # natural order
        ("2024.01", "2024.1.1"),
    ],
)
def test_versions_order(older, newer):
    assert is_newer(newer, older)
    assert not is_newer(older, newer)


def test_build_metadata_does_not_order():
    assert version_key("1.0.0+abc") == version_key("1.0.0+def")


def test_any_two_versions_compare():
    versions = ["1.0.0", "build-7", "1.0", "v2", "1.0.0-rc1", "0.9"]
    assert sorted(versions, key=version_key)
