"""Properties of ``leadpost diff``: a file against itself is no change; any pair never raises."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.authoring.fmt import format_text
from engine.diff.campaign import CampaignVersion, campaign_changes
from engine.diff.files import Version, diff_pair, load_version
from engine.diff.payloads import payload_diffs
from engine.diff.semantic import BuyerVersion, buyer_changes
from engine.diff.sources import Side
from engine.diff.wording import description_change, split_description
from tests.diff_kit import copy_integrations
from tests.paths import INTEGRATIONS
from tests.props import fewer

BUYERS = sorted(p.relative_to(INTEGRATIONS).as_posix() for p in INTEGRATIONS.glob("buyers/*.yaml"))
CAMPAIGNS = sorted(
    p.relative_to(INTEGRATIONS).as_posix() for p in INTEGRATIONS.glob("campaigns/*.yaml")
)
REAL = Side("real", INTEGRATIONS, {k: INTEGRATIONS / k for k in BUYERS + CAMPAIGNS}, "integrations")
SETTINGS = settings(fewer(8), suppress_health_check=[HealthCheck.function_scoped_fixture])


def loaded(key: str) -> Version:
    version = load_version(REAL, key)
    assert version.compiled is not None, (key, version.errors)
    return version


def test_the_example_files_all_compile() -> None:
    """Every example buyer and campaign file compiles (the properties below rely on it)."""
    assert len(BUYERS) >= 10 and len(CAMPAIGNS) >= 3
    for key in BUYERS + CAMPAIGNS:
        loaded(key)


@SETTINGS
@given(key=st.sampled_from(BUYERS))
def test_a_buyer_file_against_itself_is_no_change(key: str) -> None:
    """Loaded twice, a buyer file has no semantic change and no payload difference."""
    a, b = loaded(key), loaded(key)
    assert isinstance(a.compiled, BuyerVersion) and isinstance(b.compiled, BuyerVersion)
    assert buyer_changes(a.compiled, b.compiled) == []
    assert payload_diffs(a.compiled.plan, b.compiled.plan, a.path, b.path) == []


@pytest.fixture(scope="module")
def formatted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Side, Side]:
    """The real tree, and a copy with every buyer and campaign file put through leadpost fmt."""
    root = tmp_path_factory.mktemp("fmt")
    copy_integrations(root)
    tree = root / "integrations"
    for key in BUYERS + CAMPAIGNS:
        path = tree / key
        path.write_text(format_text(path.read_text(encoding="utf-8"), key), encoding="utf-8")
    return REAL, Side("fmt", tree, {k: tree / k for k in BUYERS + CAMPAIGNS}, "fmt")


@SETTINGS
@given(key=st.sampled_from(BUYERS + CAMPAIGNS))
def test_reformatting_a_file_is_never_behavioural(formatted: tuple[Side, Side], key: str) -> None:
    """``leadpost fmt`` changes layout only, so the diff says formatting only (or nothing)."""
    found = diff_pair(*formatted, key)
    assert found is None or (found.status, found.changes, found.payloads) == ("formatting", (), ())


@SETTINGS
@given(a=st.sampled_from(BUYERS), b=st.sampled_from(BUYERS))
def test_any_two_buyer_files_compare_without_raising(a: str, b: str) -> None:
    """Any pair of valid buyer files gives a list of changes, never an exception; a
    different pair always has some change."""
    old, new = loaded(a).compiled, loaded(b).compiled
    assert isinstance(old, BuyerVersion) and isinstance(new, BuyerVersion)
    changes = buyer_changes(old, new)
    assert all(c.text for c in changes)
    assert (changes == []) == (a == b)


@SETTINGS
@given(a=st.sampled_from(CAMPAIGNS), b=st.sampled_from(CAMPAIGNS))
def test_any_two_campaign_files_compare_without_raising(a: str, b: str) -> None:
    """Any pair of valid campaign files gives a list of changes, never an exception."""
    old, new = loaded(a).compiled, loaded(b).compiled
    assert isinstance(old, CampaignVersion) and isinstance(new, CampaignVersion)
    changes = campaign_changes(old, new)
    assert (changes == []) == (a == b)


_WORD = st.text(alphabet="abcxyz .→-", min_size=1, max_size=12)
_PART = st.builds(
    lambda word, inner: word + (f" ({', '.join(inner)})" if inner else ""),
    _WORD,
    st.lists(_WORD, max_size=3),
)


@given(st.lists(_PART, min_size=1, max_size=6))
def test_split_description_recovers_the_parts(parts: list[str]) -> None:
    """A description joined from parts with ', ' splits back into them; commas inside
    brackets (``translated (own → Y, rent → N)``) stay inside their part."""
    assert split_description(", ".join(parts)) == parts


@given(st.text(max_size=100), st.text(max_size=100))
def test_description_change_never_raises(old: str, new: str) -> None:
    """Any two descriptions give one line of words."""
    assert description_change(old, new)
