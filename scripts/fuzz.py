"""The long fuzz run (``scripts/fuzz [FILES] [LEADS]``): Hypothesis-generated mutations of the
example buyer and campaign files (and of the sample leads), linted and rendered in-process.

Unlike the short run in the suite, a finding does not stop the run: every one is recorded, and
the run ends with a summary — files and leads tried, findings by kind (with the first example
of each), the slowest lint and the peak memory of the process. Exit 1 when anything was found.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.lead.schema import load_lead_schema
from tests.hardening.fuzz import (
    Finding,
    example_plans,
    lint_one,
    mutated_files,
    mutated_leads,
    project,
    render_one,
)
from tests.paths import INTEGRATIONS

#: A file whose lint takes longer than this (seconds, in-process) is reported as slow.
SLOW = 2.0


def main(files: int, leads: int) -> int:
    findings: list[Finding] = []
    saved: list[tuple[str, bytes]] = []
    tried = {"files": 0, "leads": 0}
    slowest = (0.0, "")
    run = settings(
        max_examples=files,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    with tempfile.TemporaryDirectory(prefix="leadpost-fuzz-") as tmp:
        folder = project(Path(tmp))

        @run
        @given(case=mutated_files())
        def one_file(case: tuple[str, bytes]) -> None:
            nonlocal slowest
            seed, raw = case
            tried["files"] += 1
            started = time.perf_counter()
            findings.extend(lint_one(folder, seed, raw))
            took = time.perf_counter() - started
            if took > SLOW:  # timed again: a busy machine alone must not make a finding
                again = time.perf_counter()
                lint_one(folder, seed, raw)
                took = min(took, time.perf_counter() - again)
            if took > slowest[0]:
                slowest = (took, seed)
            if took > SLOW:
                findings.append(Finding("slow", f"{took:.1f} s for {len(raw):,} bytes", seed))
                saved.append((seed, raw))
            if tried["files"] % 500 == 0:
                print(f"  {tried['files']:,} files, {len(findings)} findings", flush=True)

        one_file()

    plans = example_plans()
    schema = load_lead_schema(INTEGRATIONS / "lead-schema.yaml")

    @settings(run, max_examples=leads)
    @given(raw=mutated_leads())
    def one_lead(raw: bytes) -> None:
        tried["leads"] += 1
        for plan in plans:
            findings.extend(render_one(plan, schema, raw))

    one_lead()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"files linted: {tried['files']:,}; leads rendered for {len(plans)} buyers: "
        f"{tried['leads']:,}"
    )
    print(f"slowest lint: {slowest[0]:.2f} s ({slowest[1]}); peak memory {peak:.0f} MB")
    kinds = Counter(f.kind for f in findings)
    print(f"findings: {len(findings)}" + "".join(f"\n  {k}: {n}" for k, n in kinds.items()))
    shown: set[str] = set()
    for f in findings:
        key = f"{f.kind}:{f.detail.splitlines()[-1] if f.detail else ''}"
        if key in shown:
            continue
        shown.add(key)
        print(f"--- {f.kind} (seed {f.seed})\n{f.detail}")
    if saved:
        keep = Path("fuzz-findings")
        keep.mkdir(exist_ok=True)
        for i, (seed, raw) in enumerate(saved):
            (keep / f"{i}-{seed}").write_bytes(raw)
        print(f"inputs of slow findings saved in {keep}/")
    return 1 if findings else 0


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    sys.exit(main(*(args + [10_000, 2_000][len(args) :])))
