"""Payload encoders: check a stage's field paths against its format and build its encoder once.

:func:`build_encoder` is the compile-side entry point. It reports every path the format cannot
express (LP308) and every invalid ``xml`` setting (LP204) with its position, and returns an
:class:`~engine.plan.Encoder` whose ``encode(values)`` takes one value per path, in the same
order (OMIT leaves a field out). Formats: ``json`` (json_.py), ``xml`` (xml_.py, xmlnames.py),
``form`` and ``query`` (form.py), and a JSON or XML document wrapped in a form field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.compiler.context import CompileContext, Path
from engine.compiler.encoders.form import FORM, FormEncoder, FormItems, WrapEncoder, check_flat
from engine.compiler.encoders.json_ import JsonEncoder, JsonItems, item_shape
from engine.compiler.encoders.paths import NameCheck, Problem, build_tree, show
from engine.compiler.encoders.xml_ import Limit, XmlEncoder, XmlItems
from engine.compiler.encoders.xmlnames import OptionProblem, check_name, codec_for, setup
from engine.dsl.models import StageSpec
from engine.plan import Encoder, ItemsPlan, OutputPath

#: A list field of the stage: its name and the shape of its items.
Listed = tuple[str, ItemsPlan]

__all__ = ["FormEncoder", "JsonEncoder", "WrapEncoder", "XmlEncoder", "build_encoder"]


def build_encoder(
    stage: StageSpec,
    paths: Sequence[OutputPath],
    at: Path,
    ctx: CompileContext,
    outer_paths: Sequence[OutputPath] = (),
    limits: Sequence[Limit | None] = (),
    items: Sequence[Listed | None] = (),
) -> Encoder | None:
    """The encoder of ``stage`` for ``paths`` (its fields, in file order), or None on problems.

    ``at`` is where the stage is in the file (e.g. ``("stages", "post")``). With
    ``wrap_in_form``, ``outer_paths`` are the other form fields and ``encode`` takes the
    document's values followed by theirs. ``limits`` (aligned with ``paths``) are the fields'
    ``max_length``, kept by an XML encoder after it transliterates a text. ``items`` (aligned
    with ``paths``) name the list fields (``each:``) and their items' shape.
    """
    items = tuple(items) or (None,) * len(paths)
    fields_at = (*at, "fields")
    errors_before = sum(1 for i in ctx.issues if i.severity == "error")
    problems: list[Problem] = []
    document: Encoder | None
    if stage.format in ("form", "query"):
        what = "form" if stage.format == "form" else "query string"
        check_flat(paths, problems, what)
        _report(problems, paths, stage.fields, (*at, "fields"), ctx)
        found = [None if x is None else _form_items(x, fields_at, ctx) for x in items]
        if problems or any(f is None for f, x in zip(found, items, strict=True) if x):
            return None
        return FormEncoder(paths, FORM if stage.format == "form" else "", found)
    if stage.format == "json":
        _list_ends(paths, items, problems, xml=False)
        tree = build_tree(paths, problems, xml=False)
        made = [None if x is None else _json_items(x, fields_at, ctx) for x in items]
        failed = any(m is None for m, x in zip(made, items, strict=True) if x)
        document = None if problems or failed else JsonEncoder(tree, paths, made)
    else:
        assert stage.xml is not None  # the model requires it for format xml
        options: list[OptionProblem] = []
        xml = setup(stage.xml, options)
        for o in options:
            ctx.error(o.code, o.message, (*at, "xml", *o.where), hint=o.hint, key=o.key)
        codec = codec_for(stage.xml.encoding) or "utf-8"
        encoding = xml.encoding if xml is not None else stage.xml.encoding
        names = check_name(stage.xml, codec, encoding)
        _list_ends(paths, items, problems, xml=True)
        tree = build_tree(paths, problems, xml=True, check_name=names)
        made_xml = [
            None if x is None else _xml_items(str(p[-1]), x, fields_at, ctx, names)
            for p, x in zip(paths, items, strict=True)
        ]
        failed = any(m is None for m, x in zip(made_xml, items, strict=True) if x)
        document = (
            None
            if problems or xml is None or failed
            else XmlEncoder(xml, tree, paths, limits, made_xml)
        )
    _report(problems, paths, stage.fields, (*at, "fields"), ctx)
    if stage.wrap_in_form is not None:
        document = _wrap(stage, document, len(paths), outer_paths, at, ctx)
    errors_after = sum(1 for i in ctx.issues if i.severity == "error")
    return document if errors_after == errors_before else None


def _wrap(
    stage: StageSpec,
    document: Encoder | None,
    count: int,
    outer_paths: Sequence[OutputPath],
    at: Path,
    ctx: CompileContext,
) -> Encoder | None:
    wrap = stage.wrap_in_form
    assert wrap is not None
    problems: list[Problem] = []
    check_flat(outer_paths, problems, "form")
    _report(problems, outer_paths, wrap.fields, (*at, "wrap_in_form", "fields"), ctx)
    where = (*at, "wrap_in_form", "field")
    if not wrap.field.strip():
        ctx.error("LP204", "the form field that carries the document needs a name", where)
        return None
    if any(p == (wrap.field,) for p in outer_paths):
        ctx.error(
            "LP308",
            f"the document field '{wrap.field}' has the same name as another form field",
            where,
            hint="rename one of them",
        )
        return None
    if problems or document is None:
        return None
    return WrapEncoder(document, count, wrap.field, FormEncoder(outer_paths))


def _list_ends(
    paths: Sequence[OutputPath], items: Sequence[Listed | None], problems: list[Problem], xml: bool
) -> None:
    """A list field's name ends in a plain name: the array's key, or the repeated element."""
    for i, (path, listed) in enumerate(zip(paths, items, strict=True)):
        last = path[-1] if path else None
        if listed is None or (isinstance(last, str) and not last.startswith("@")):
            continue
        what = "the repeated element" if xml else "the list"
        problems.append(
            Problem(
                i,
                f"'{show(path)}' sends a list, so its name must end with {what}'s name",
                "e.g. Drivers.Driver in XML, or drivers in JSON (no [0] and no @)",
            )
        )


def _item_paths(plan: ItemsPlan) -> list[OutputPath]:
    return [f.path for f in plan.fields]


def _json_items(listed: Listed, base: Path, ctx: CompileContext) -> JsonItems | None:
    name, plan = listed
    if not plan.fields:
        return JsonItems(None, (name,))
    here = (*base, name, "fields")
    paths = _item_paths(plan)
    problems: list[Problem] = []
    nested = [None if f.items is None else (f.name, f.items) for f in plan.fields]
    _list_ends(paths, nested, problems, xml=False)
    tree = build_tree(paths, problems, xml=False)
    _report(problems, paths, {f.name: None for f in plan.fields}, here, ctx)
    made = [None if x is None else _json_items(x, here, ctx) for x in nested]
    if problems or any(m is None for m, x in zip(made, nested, strict=True) if x):
        return None
    return JsonItems(item_shape(tree), tuple(show(p) for p in paths), tuple(made))


def _xml_items(
    element: str, listed: Listed, base: Path, ctx: CompileContext, names: NameCheck
) -> XmlItems | None:
    name, plan = listed
    if not plan.fields:
        return XmlItems(element, None, (), (), ())
    here = (*base, name, "fields")
    paths = _item_paths(plan)
    problems: list[Problem] = []
    nested = [None if f.items is None else (f.name, f.items) for f in plan.fields]
    _list_ends(paths, nested, problems, xml=True)
    tree = build_tree(paths, problems, xml=True, check_name=names)
    _report(problems, paths, {f.name: None for f in plan.fields}, here, ctx)
    made = [
        None if x is None else _xml_items(str(p[-1]), x, here, ctx, names)
        for p, x in zip(paths, nested, strict=True)
    ]
    if problems or any(m is None for m, x in zip(made, nested, strict=True) if x):
        return None
    return XmlItems(element, tree, paths, (None,) * len(paths), made)


def _form_items(listed: Listed, base: Path, ctx: CompileContext) -> FormItems | None:
    name, plan = listed
    if plan.names is None:
        return None  # the field compiler reported it
    here = (*base, name, "fields")
    paths = _item_paths(plan)
    problems: list[Problem] = []
    check_flat(paths, problems, "form")
    _report(problems, paths, {f.name: None for f in plan.fields}, here, ctx)
    nested = [None if f.items is None else (f.name, f.items) for f in plan.fields]
    made = [None if x is None else _form_items(x, here, ctx) for x in nested]
    if problems or any(m is None for m, x in zip(made, nested, strict=True) if x):
        return None
    return FormItems(plan.names, tuple(str(p[0]) for p in paths), tuple(made))


def _report(
    problems: Sequence[Problem],
    paths: Sequence[OutputPath],
    keys: Mapping[str, object],
    base: Path,
    ctx: CompileContext,
) -> None:
    """Report each problem as LP308 at the key of the field it is about."""
    names = list(keys)
    for p in sorted(problems, key=lambda p: p.index):
        shown = show(paths[p.index])
        if shown in keys:
            ctx.error("LP308", p.message, (*base, shown), hint=p.hint, key=True)
        elif len(names) == len(paths):
            ctx.error("LP308", p.message, (*base, names[p.index]), hint=p.hint, key=True)
        else:
            ctx.error("LP308", p.message, base, hint=p.hint)
