"""A small name -> factory registry, shared by judges, coherence scorers, backends, objectives
and later plug-ins.

A registry may name the modules that register its built-in factories (``builtins``): they
are imported, by name, the first time the registry is asked for a name, so that the module
that defines the registry never imports the modules that fill it (no import cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from judgeaudit.errors import ConfigError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Factories (usually classes) registered under names.

    ``kind`` names what is registered ("judge", "coherence scorer") in error messages;
    ``builtins`` are dotted module names imported before the first lookup (each registers
    its factories with :meth:`register` when imported).
    """

    def __init__(self, kind: str, *, builtins: tuple[str, ...] = ()):
        self.kind = kind
        self.builtins = tuple(builtins)
        self._loaded = not self.builtins
        self._factories: dict[str, Callable[..., T]] = {}

    def _load_builtins(self) -> None:
        if not self._loaded:
            import importlib

            self._loaded = True
            for module in self.builtins:
                importlib.import_module(module)

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Class decorator registering the factory as ``name``.

        Registering a second, different factory under a taken name raises
        :class:`~judgeaudit.errors.ConfigError`; registering the same one again is a no-op.
        """

        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            existing = self._factories.get(name)
            if existing is not None and existing is not factory:
                raise ConfigError(f"a {self.kind} named {name!r} is already registered ({existing!r})")
            self._factories[name] = factory
            return factory

        return decorator

    def names(self) -> list[str]:
        """The registered names, sorted."""
        self._load_builtins()
        return sorted(self._factories)

    def factory(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name`` (to inspect its options before building).

        Raises :class:`~judgeaudit.errors.UnknownNameError`, listing the valid names,
        when there is none.
        """
        self._load_builtins()
        try:
            return self._factories[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._factories) from None

    def build(self, name: str, **options: Any) -> T:
        """Call the factory registered as ``name`` with ``options``.

        Raises :class:`~judgeaudit.errors.UnknownNameError`, listing the valid names,
        when there is none.
        """
        return self.factory(name)(**options)
