"""Find and compile the buyer files a campaign names by id (the ``buyer:`` of each file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from engine.compiler.context import CompileContext
from engine.compiler.context import Path as YamlPath
from engine.dsl.loader import load_yaml
from engine.dsl.suggest import hint_for
from engine.errors import AuthoringError, Issue
from engine.loading import check_integration, display_name, find_lead_schema, yaml_files
from engine.plan import IntegrationPlan
from engine.positions import Span

BUYERS_FOLDER = "buyers"


def find_buyers_dir(campaign_file: str | Path) -> Path | None:
    """The nearest ``buyers`` folder beside the campaign's folder or one of its parents."""
    here = Path(campaign_file).resolve().parent
    for folder in [here, *here.parents]:
        candidate = folder / BUYERS_FOLDER
        if candidate.is_dir():
            return candidate
    return None


def index_buyers(folder: Path) -> dict[str, list[Path]]:
    """Every buyer file under ``folder`` by the id its ``buyer:`` key declares.

    A file that cannot be read as YAML (or has no ``buyer:`` text) is indexed under its file
    name without the extension, so a campaign naming it still hears about its problems.
    """
    index: dict[str, list[Path]] = {}
    for path in yaml_files([folder]):
        declared = _declared_id(path, *_stamp(path))
        index.setdefault(declared or path.stem, []).append(path)
    return index


def _stamp(path: Path) -> tuple[int, int]:
    """What changes when a file is edited: its modification time and size."""
    try:
        info = path.stat()
    except OSError:
        return 0, -1
    return info.st_mtime_ns, info.st_size


@lru_cache(maxsize=256)
def _declared_id(path: Path, mtime_ns: int, size: int) -> str | None:
    try:
        data = load_yaml(path, display_name(path)).data
    except AuthoringError:
        return None
    declared = data.get("buyer") if isinstance(data, dict) else None
    return declared.strip() if isinstance(declared, str) and declared.strip() else None


@lru_cache(maxsize=64)
def _compiled(
    path: Path, stamp: tuple[int, int], schema: tuple[int, int]
) -> tuple[IntegrationPlan | None, tuple[Issue, ...]]:
    """A buyer file's plan and issues, compiled once while it and the lead schema are unchanged."""
    plan, issues, _ = check_integration(path)
    return plan, tuple(issues)


@dataclass
class BuyerResolver:
    """Resolves buyer ids for one campaign compile, reporting problems into its context."""

    folder: Path | None
    ctx: CompileContext
    _index: dict[str, list[Path]] | None = None
    _plans: dict[str, IntegrationPlan | None] = field(default_factory=dict)
    _reported: set[str] = field(default_factory=set)

    def index(self) -> dict[str, list[Path]]:
        if self._index is None:
            self._index = index_buyers(self.folder) if self.folder is not None else {}
        return self._index

    def get(self, buyer: str, at: YamlPath) -> IntegrationPlan | None:
        """The compiled plan of buyer ``buyer``, or None after reporting why it cannot be used."""
        if self.folder is None:
            self.ctx.error(
                "LP314",
                f"unknown buyer '{buyer}': there is no '{BUYERS_FOLDER}' folder beside this "
                "campaign's folder or above it",
                at,
                hint="keep campaigns in integrations/campaigns and buyers in integrations/buyers",
            )
            return None
        paths = self.index().get(buyer)
        if not paths:
            known = sorted(self.index())
            listed = f"known buyers: {', '.join(known)}" if known else "no buyer files were found"
            self.ctx.error(
                "LP314",
                f"unknown buyer '{buyer}': no file in {display_name(self.folder)} says "
                f"'buyer: {buyer}'",
                at,
                hint=hint_for(buyer, known) or listed,
            )
            return None
        if len(paths) > 1:
            names = " and ".join(display_name(p) for p in paths)
            self.ctx.error(
                "LP312",
                f"two buyer files say 'buyer: {buyer}': {names}",
                at,
                hint="give each buyer file its own id",
            )
            return None
        if buyer not in self._plans:
            self._plans[buyer] = self._compile(buyer, paths[0])
        plan = self._plans[buyer]
        if plan is None:
            self.ctx.error(
                "LP314",
                f"buyer '{buyer}' cannot be used: its file {display_name(paths[0])} has errors "
                "(listed with this campaign's problems)",
                at,
                hint=f"fix them first: leadpost lint {display_name(paths[0])}",
            )
        return plan

    def _compile(self, buyer: str, path: Path) -> IntegrationPlan | None:
        schema = find_lead_schema(path)
        plan, issues = _compiled(path, _stamp(path), _stamp(schema) if schema else (0, -1))
        if plan is None and buyer not in self._reported:
            self._reported.add(buyer)
            errors = [i for i in issues if i.severity == "error"]
            self.ctx.issues.extend(errors or [_unreadable(path)])
        return plan


def _unreadable(path: Path) -> Issue:
    return Issue("LP100", "this buyer file could not be compiled", Span(display_name(path), 1, 1))
