"""The sandbox file: the shipped one matches the example integrations; problems have positions."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from engine.errors import AuthoringError
from engine.loading import load_integration
from engine.sandbox import (
    DIALECTS,
    Burst,
    Faults,
    Latency,
    load_config,
    parse_config,
    sandbox_environ,
)

SANDBOX = Path("integrations/sandbox.yaml")
EXAMPLES = sorted(Path("integrations/buyers").glob("*.yaml"))


def test_the_shipped_file_loads() -> None:
    """integrations/sandbox.yaml: the example buyers and nine generic ping/post buyers."""
    config = load_config(SANDBOX)
    assert config.seed is not None and config.port == 8701
    generic = [b.id for b in config.buyers if b.dialect == "generic-json"]
    assert len(config.buyers) == 17 and len(generic) == 9
    assert config.buyer("apex-ping").secrets == {"api_key": "APEX_PING_KEY"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_test_environment_points_at_a_sandbox_buyer(path: Path) -> None:
    """Each example's test URLs are endpoints of the sandbox buyer named like the file."""
    plan = load_integration(path)
    sim = load_config(SANDBOX).buyer(plan.buyer)
    routes = DIALECTS[sim.dialect].routes()
    env = plan.environments["test"]
    prefix = f"http://127.0.0.1:8701/{plan.buyer}"
    for stage in plan.stages.values():
        url = env.url.rstrip("/") + stage.request.path if stage.request.path else env.url
        assert url.startswith(prefix) and url.removeprefix(prefix) in routes
    if env.token_url is not None:
        assert routes[env.token_url.removeprefix(prefix)].kind == "token"


def test_every_secret_the_examples_read_is_in_the_credentials() -> None:
    """sandbox_environ gives a value for every ${env:NAME} in the example integrations."""
    environ = sandbox_environ(load_config(SANDBOX))
    for path in EXAMPLES:
        for name in re.findall(r"\$\{env:(\w+)\}", path.read_text()):
            assert name in environ, f"{path.name} reads {name}"


BAD = """\
credentials:
  APEX_PING_KEY: k
  bad-name: x
buyers:
  apex-ping:
    dialect: generic-jsn
    latency: {median: 40ms, p95: soon}
  Beacon:
    dialect: beacon
    accept_rate: 0.8
    duplicate_rate: 0.4
    secrets: {tokn: K}
    burst: {every: 2, length: 3}
  c:
    dialect: prairie
    acept_rate: 2
"""


def test_every_problem_is_reported_with_its_position() -> None:
    """Shape problems are reported first; meaning problems (after the shape is right) together."""
    with pytest.raises(AuthoringError) as shape:
        parse_config(BAD, "sb.yaml")
    assert [i.render() for i in shape.value.issues] == [
        "sb.yaml:16:5: LP201 unknown key 'acept_rate'\n  hint: did you mean 'accept_rate'?",
    ]
    with pytest.raises(AuthoringError) as meaning:
        parse_config(BAD.replace("acept_rate: 2", "accept_rate: 1"), "sb.yaml")
    assert [i.render() for i in meaning.value.issues] == [
        "sb.yaml:3:3: LP309 'bad-name' is not a valid environment variable name\n"
        "  hint: use letters, digits and '_' only",
        "sb.yaml:6:14: LP205 unknown dialect 'generic-jsn'\n  hint: did you mean 'generic-json'?",
        "sb.yaml:7:34: LP310 'soon' is not a duration\n"
        "  hint: write a number with a unit: 40ms, 2s, 5m, 1h",
        "sb.yaml:8:3: LP204 'Beacon' cannot be a buyer id (it is the buyer's URL prefix)\n"
        "  hint: use lower-case letters, digits and '-', like apex-ping",
        "sb.yaml:8:3: LP309 the token of 'Beacon' is read from BEACON_TOKEN, which is not listed"
        " under credentials\n  hint: add 'BEACON_TOKEN: some-value' under credentials",
        "sb.yaml:11:21: LP312 accept_rate and duplicate_rate add up to more than 1\n"
        "  hint: lower one of them",
        "sb.yaml:12:15: LP201 the beacon dialect has no secret 'tokn'\n"
        "  hint: did you mean 'token'?",
        "sb.yaml:13:31: LP204 a burst cannot be longer than its period ('every')",
        "sb.yaml:14:3: LP309 the api_key of 'c' is read from PRAIRIE_API_KEY, which is not"
        " listed under credentials\n  hint: add 'PRAIRIE_API_KEY: some-value' under credentials",
    ]


def test_rates_out_of_range_are_shape_problems() -> None:
    """A rate above 1 is refused by the shape check, with its position."""
    text = "credentials: {K_KEY: v}\nbuyers:\n  k: {dialect: generic-json, reset_rate: 1.5}\n"
    with pytest.raises(AuthoringError) as caught:
        parse_config(text, "sb.yaml")
    assert caught.value.issues[0].render().startswith("sb.yaml:3:42: LP204 must be at most 1")


def test_latency_quantiles() -> None:
    """The median is the 50th percentile, p95 the 95th; the cap bounds the tail; fixed is fixed."""
    spread = Latency(median=0.04, p95=0.12, cap=0.5)
    assert spread.sample(0.5) == pytest.approx(0.04)
    assert spread.sample(0.95) == pytest.approx(0.12)
    assert spread.sample(0.999999) == 0.5
    assert Latency(0.04, 0.04).sample(0.99) == 0.04
    assert Latency().sample(0.7) == 0.0


def test_bursts_fall_at_the_end_of_each_period() -> None:
    """{every: 5, length: 2}: requests 4, 5, 9, 10 … are hit."""
    burst = Burst(every=5, length=2)
    assert [n for n in range(1, 11) if burst.hits(n)] == [4, 5, 9, 10]


def test_failure_rates_are_shares_of_one_draw() -> None:
    """Each failure takes its own slice of [0, 1); a burst takes precedence."""
    faults = Faults(server_error_rate=0.1, rate_limit_rate=0.1, timeout_rate=0.1, reset_rate=0.1)
    picks = [faults.pick(1, (u + 0.5) / 20) for u in range(20)]
    assert picks[:8] == ["server_error"] * 2 + ["rate_limit"] * 2 + ["timeout"] * 2 + ["reset"] * 2
    assert set(picks[8:]) == {None}
    assert Faults(burst=Burst(1, 1)).pick(7, 0.99) == "burst"


def test_steady_keeps_the_dice_but_drops_delays_and_faults() -> None:
    """steady(): no latency, no faults; bids and verdicts as written."""
    config = load_config(SANDBOX).steady()
    beacon = config.buyer("beacon-ping")
    assert beacon.latency == Latency() and beacon.faults == Faults()
    assert (beacon.bid_min, beacon.no_bid_rate) == (Decimal("8.00"), 0.25)


KEYS = [
    *("seed", "port", "credentials", "buyers", "dialect", "latency", "median", "p95", "bid"),
    *("min", "max", "accept_rate", "burst", "every", "length", "secrets", "reasons", "apex-ping"),
]
SCALARS = st.one_of(
    st.sampled_from(["generic-json", "beacon", "40ms", "0.5", "2", "-1", "", "x", "APEX_PING_KEY"]),
    st.integers(-5, 70000),
    st.booleans(),
)
TREES: Any = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from(KEYS), TREES, max_size=5))
def test_any_file_gives_a_config_or_our_error(data: dict[str, Any]) -> None:
    """Whatever the file holds, loading it gives a config or an AuthoringError, nothing else."""
    text = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, text)
    try:
        parse_config(text.getvalue(), "fuzz.yaml")
    except AuthoringError as exc:
        assert exc.issues
