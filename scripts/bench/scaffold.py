"""Benchmark: how much of each example buyer's hand-written mapping a draft gets right.

For every stage of ``integrations/buyers/*.yaml`` that names the buyer's spec, the stage is
drafted from that spec (``leadpost new buyer --from-spec``'s code, same operation/element; a
ping/post buyer's post as drafted with ``--ping-spec``, so its ping id reads ``ping.…``) and
each hand-written field that lands on a spec property is compared with the drafted field for
the same property. A field counts as matched when both take the same source (the same lead
field, the same constant, the same concat) with the same shaping: the same transform steps
(arguments compared as text) and the same ``max_length``. ``type``, ``if_missing``, ``default``
and ``too_long`` are not compared. Also printed: the share with the same source whatever the
shaping, and the fields the draft left as TODO. Target: >= 80% matched over the shipped specs.

Run by hand:  .venv/bin/python scripts/bench/scaffold.py [--verbose]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BUYERS = ROOT / "integrations" / "buyers"
sys.path.insert(0, str(ROOT))

from engine.authoring.scaffold.fields import FieldDraft, draft_fields  # noqa: E402
from engine.authoring.scaffold.source import read_draft  # noqa: E402
from engine.compiler.fields_paths import parse_output_path  # noqa: E402
from engine.contract.paths import field_key, key, shape_of  # noqa: E402
from engine.dsl import models as m  # noqa: E402
from engine.dsl.issues import validate  # noqa: E402
from engine.dsl.loader import load_yaml  # noqa: E402
from engine.loading import schema_for  # noqa: E402


def _text(value: Any) -> Any:
    """Arguments compared as text, as the loader reads them (``5`` and ``"5"`` are alike)."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), _text(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _steps(steps: list[Any]) -> tuple[Any, ...]:
    out: list[tuple[Any, ...]] = []
    for step in steps:
        if isinstance(step, str):
            out.append((step,))
        else:
            (name, args), *_ = step.items()
            if name == "phone" and isinstance(args, dict) and set(args) == {"style"}:
                args = args["style"]
            shorthand = isinstance(args, dict) and not {"map", "default", "unmapped"} & set(args)
            if name == "translate" and shorthand:
                args = {"map": args}  # the shorthand translate: {own: Y}
            out.append((name, _text(args)))
    return tuple(out)


def _source(spec: m.FieldSpec | dict[str, Any] | str) -> Any:
    if isinstance(spec, str):
        return ("from", spec.strip())
    if isinstance(spec, dict):
        for word in ("from", "value", "concat", "when"):
            if word in spec:
                return (word, _text(spec[word]))
        return None
    if spec.from_ is not None:
        return ("from", spec.from_.strip())
    if spec.value is not None:
        return ("value", spec.value)
    if spec.concat is not None:
        return ("concat", _text([c if isinstance(c, str) else c.model_dump() for c in spec.concat]))
    return ("when", None)


def _shaping(spec: m.FieldSpec | dict[str, Any] | str) -> Any:
    if isinstance(spec, str):
        return ((), None)
    if isinstance(spec, dict):
        return (_steps(spec.get("transform", [])), spec.get("max_length"))
    return (_steps(spec.transform), spec.max_length)


def compare(path: Path, verbose: bool, use_ping: bool = True) -> tuple[int, int, int, int]:
    """(hand-written fields on spec properties, same source and shaping, same source, TODO)."""
    doc = load_yaml(path)
    buyer, _ = validate(m.IntegrationSpec, doc)
    schema = schema_for(path)
    assert buyer is not None and schema is not None, path
    total = same = same_source = todo = 0
    for stage_name in ("ping", "post"):
        stage = getattr(buyer.stages, stage_name)
        if stage is None or stage.spec is None:
            continue
        ref = stage.spec
        written = ref.json_schema or ref.openapi or ref.xsd or ""
        draft = read_draft(
            (path.parent / written).resolve(),
            operation=ref.operation,
            element=ref.element,
            stage=stage_name,
        )
        after_ping = use_ping and stage_name == "post" and buyer.stages.ping is not None
        drafted: dict[Any, FieldDraft] = {
            key(d.path): d
            for d in draft_fields(draft.fields, schema, draft.format, after_ping=after_ping)
        }
        shape = shape_of(stage)
        for name, spec in stage.fields.items():
            out = parse_output_path(name)
            if isinstance(out, str):
                continue
            at = field_key(shape, out)
            if at is None or at not in {key(p) for p in draft.fields_paths()}:
                continue
            total += 1
            mine = drafted.get(at)
            if mine is None:
                continue
            todo += mine.placeholder
            ok_source = _source(spec) == _source(mine.spec)
            ok = ok_source and _shaping(spec) == _shaping(mine.spec)
            same_source += ok_source
            same += ok
            if verbose and not ok:
                print(f"    {path.stem} {stage_name} {name}: hand {_source(spec)} {_shaping(spec)}")
                print(
                    f"    {' ' * len(path.stem)} draft {_source(mine.spec)} {_shaping(mine.spec)}"
                )
    return total, same, same_source, todo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="show every field that differs")
    args = parser.parse_args()
    rows = []
    for path in sorted(BUYERS.glob("*.yaml")):
        total, same, same_source, todo = compare(path, args.verbose)
        if total:
            rows.append((path.stem, total, same, same_source, todo))
    print(f"{'buyer':<20} {'fields':>6} {'same':>6} {'source':>7} {'TODO':>5}")
    for name, total, same, same_source, todo in rows:
        print(f"{name:<20} {total:>6} {same:>6} {same_source:>7} {todo:>5}  {same / total:6.1%}")
    total = sum(r[1] for r in rows)
    same = sum(r[2] for r in rows)
    same_source = sum(r[3] for r in rows)
    todo = sum(r[4] for r in rows)
    print(
        f"\n{len(rows)} buyers, {total} hand-written fields on spec properties: "
        f"{same} ({same / total:.1%}) same lead field and shaping (target >= 80%), "
        f"{same_source} ({same_source / total:.1%}) same source, {todo} left as TODO"
    )
    alone = [compare(p, False, use_ping=False) for p in sorted(BUYERS.glob("*.yaml"))]
    same_alone = sum(r[1] for r in alone)
    print(
        f"each stage drafted on its own (no --ping-spec, a post's ping id left TODO): "
        f"{same_alone} ({same_alone / total:.1%}) same lead field and shaping"
    )


if __name__ == "__main__":
    main()
