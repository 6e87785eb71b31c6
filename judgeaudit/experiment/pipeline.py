"""The experiment's stages in :data:`~judgeaudit.experiment.stages.ORDER`: judgeaudit's own
(:mod:`.core_stages`) and the plug-ins that ``finetune`` and ``annotation`` contribute through
the ``judgeaudit.stages`` entry point group (judgeaudit never imports those packages)."""

from __future__ import annotations

from typing import Any

from judgeaudit.errors import ConfigError, MissingExtraError

from . import core_stages, persona_stage, stress_stage
from .config import ExperimentConfig
from .stages import _PLUGINS, ORDER, Stage

__all__ = ["load_stages"]


def _plugin(name: str) -> Any:
    from importlib.metadata import entry_points

    found = [ep for ep in entry_points(group="judgeaudit.stages") if ep.name == name]
    if not found:
        raise ConfigError(f"the {name!r} stage comes from the {_PLUGINS[name]!r} package, whose entry points "
                          "are not installed; reinstall judgeaudit from its checkout (pip install -e .)")
    try:
        return found[0].load()
    except ImportError as exc:
        raise MissingExtraError(f"the {name!r} stage ({exc.name or exc})",
                                "finetune" if name == "finetune" else "annotation") from None


def load_stages(config: ExperimentConfig) -> list[Stage]:
    """The stages in :data:`ORDER` (a plug-in is loaded only when the config needs it)."""
    stages = []
    for name in ORDER:
        stage = (getattr(core_stages, name.upper(), None) or getattr(persona_stage, name.upper(), None)
                 or getattr(stress_stage, name.upper(), None))
        if stage is None:
            if name == "finetune" and config.finetune is None:
                stage = core_stages.NotConfigured("finetune")
            else:
                stage = _plugin(name)
        stages.append(stage)
    names = [s.name for s in stages]
    if names != list(ORDER):
        raise ConfigError(f"stage plug-ins are out of order: {names}")
    return stages
