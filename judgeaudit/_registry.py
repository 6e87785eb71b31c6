"""A small name -> factory registry, shared by judges, coherence scorers and later plug-ins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .errors import ConfigError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Factories (usually classes) registered under names.

    ``kind`` names what is registered ("judge", "coherence scorer") in error messages.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

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
        return sorted(self._factories)

    def factory(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name`` (to inspect its options before building).

        Raises :class:`~judgeaudit.errors.UnknownNameError`, listing the valid names,
        when there is none.
        """
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
