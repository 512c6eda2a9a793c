"""The name → constructor table behind every extension point (`slimcore.registry`)."""
from __future__ import annotations

import pytest

from slimcore.errors import ConfigError
from slimcore.registry import Registry


def make() -> Registry:
    reg = Registry("widget")

    @reg.register("round", help="a round widget")
    def round_widget():
        return "round"

    @reg.register("square")
    class Square:
        """Four equal sides.

        More text that is not the summary."""

    return reg


def test_entries_are_listed_sorted_with_their_help_or_first_docstring_line():
    reg = make()
    assert reg.names() == ["round", "square"] and reg.get("round")() == "round"
    assert reg.describe("round") == "a round widget" and reg.describe("square") == "Four equal sides."
    assert "square" in reg and "circle" not in reg and 3 not in reg


def test_an_unknown_name_lists_the_valid_ones_and_suggests_a_close_one():
    reg = make()
    with pytest.raises(ConfigError, match=r"^unknown widget 'squar'\. Did you mean 'square'\? Valid widgets: round, "
                                          r"square\.$"):
        reg.get("squar")
    with pytest.raises(ConfigError, match=r"^unknown widget 'zzz'\. Valid widgets: round, square\.$"):
        reg.get("zzz")
    with pytest.raises(ConfigError, match=r"^unknown widget None\."):
        reg.describe(None)
    with pytest.raises(ConfigError, match=r"^unknown penalty 'l3'\. Valid penalties: \.$"):  # its own plural
        Registry("penalty", plural="penalties").get("l3")


def test_a_name_registered_twice_is_refused():
    reg = make()
    with pytest.raises(ValueError, match="widget 'round' is registered twice"):
        reg.register("round")(lambda: None)
    assert reg.get("round")() == "round"
