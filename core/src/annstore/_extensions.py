"""Extension namespaces: ``@register_anndata_namespace("name")`` adds ``adata.name`` to AnnData.

The same contract as anndata 0.13.4 (which takes it from ``scverse_misc``): the namespace class's
``__init__`` takes the AnnData object as its second parameter, named ``adata`` and annotated as
``AnnData``; a name that AnnData already defines is refused; registering a name again replaces
the earlier namespace with a warning; each AnnData object builds its namespace instance on first
access and keeps it.
"""

from __future__ import annotations

import inspect
import warnings
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, get_type_hints, overload, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Callable, Set

__all__ = ["ExtensionNamespace", "make_register_namespace_decorator", "register_anndata_namespace"]

NS = TypeVar("NS")
T = TypeVar("T")


@runtime_checkable
class ExtensionNamespace(Protocol):
    """Protocol of extension namespace classes: constructed from the extended object.

    The signature (second parameter named and annotated after the extended class) is checked
    when the namespace is registered, see :func:`register_anndata_namespace`.
    """

    def __init__(self, instance: object) -> None:
        """Build the namespace for ``instance``."""


class _NamespaceDescriptor(Generic[T, NS]):
    """Class attribute ``name``: on an instance, builds the namespace once and caches it there."""

    def __init__(self, name: str, namespace: type[NS]) -> None:
        self._name = name
        self._ns = namespace

    @overload
    def __get__(self, instance: None, owner: type[T]) -> type[NS]: ...
    @overload
    def __get__(self, instance: T, owner: type[T]) -> NS: ...
    def __get__(self, instance: T | None, owner: type[T]) -> NS | type[NS]:
        if instance is None:
            return self._ns
        ns = self._ns(instance)  # type: ignore[call-arg]
        # an instance attribute of the same name now shadows this (non-data) descriptor
        instance.__dict__[self._name] = ns
        return ns


def _check_signature(ns_class: type, cls: type, instance_name: str) -> None:
    """Refuse a namespace class whose ``__init__`` does not take ``instance_name: cls`` second."""
    params = list(inspect.signature(ns_class.__init__).parameters.values())  # type: ignore[misc]
    if len(params) < 2:
        msg = f"Namespace initializer must accept a {cls.__name__} instance as the second parameter."
        raise TypeError(msg)
    param = params[1]
    if param.annotation is inspect.Parameter.empty:
        msg = (
            f"Namespace initializer's second parameter must be annotated as the {cls.__name__!r} class, "
            "got empty annotation."
        )
        raise AttributeError(msg)
    name_ok = param.name == instance_name
    try:
        hints = get_type_hints(ns_class.__init__)  # type: ignore[misc]
    except NameError as e:
        msg = f"Namespace initializer's second parameter must be named {instance_name!r}, got {param.name!r}."
        raise NameError(msg) from e
    resolved = hints.get(param.name, param.annotation)
    type_ok = resolved is cls
    type_repr = getattr(resolved, "__name__", str(resolved))
    if name_ok and type_ok:
        return
    if type_ok:
        msg = f"Namespace initializer's second parameter must be named {instance_name!r}, got {param.name!r}."
    elif name_ok:
        msg = (
            f"Namespace initializer's second parameter must be annotated as the {cls.__name__!r} class, "
            f"got {type_repr!r}."
        )
    else:
        msg = (
            f"Namespace initializer's second parameter must be named {instance_name!r}, got {param.name!r}. "
            f"And must be annotated as {cls.__name__!r}, got {type_repr!r}."
        )
    raise TypeError(msg)


def make_register_namespace_decorator(
    cls: type, instance_name: str
) -> Callable[[str], Callable[[type[NS]], type[NS]]]:
    """A ``register_<cls>_namespace(name)`` class-decorator factory for ``cls``.

    Parameters
    ----------
    cls
        The class to extend.
    instance_name
        The conventional name of an instance of ``cls`` (``"adata"``): the namespace's
        ``__init__`` must name its second parameter so.

    Returns
    -------
    Callable
        ``register(name)``, returning a decorator that installs the decorated class as the
        namespace ``name`` of ``cls``. Attributes ``cls`` defines when this factory is called are
        reserved.
    """
    reserved: Set[str] = frozenset(dir(cls))

    def register(name: str) -> Callable[[type[NS]], type[NS]]:
        def decorator(ns_class: type[NS]) -> type[NS]:
            _check_signature(ns_class, cls, instance_name)
            if name in reserved:
                msg = f"cannot override reserved attribute {name!r}"
                raise AttributeError(msg)
            if hasattr(cls, name):
                msg = f"Overriding existing custom namespace {name!r} (on {cls.__name__!r})"
                warnings.warn(msg, UserWarning, stacklevel=2)
            setattr(cls, name, _NamespaceDescriptor(name, ns_class))
            return ns_class

        return decorator

    return register


def _make_anndata_register() -> Callable[[str], Callable[[type[Any]], type[Any]]]:
    from ._anndata import AnnData

    return make_register_namespace_decorator(AnnData, "adata")


_register = _make_anndata_register()


def register_anndata_namespace(name: str) -> Callable[[type[NS]], type[NS]]:
    """Register the decorated class as the extension namespace ``name`` of :class:`~annstore.AnnData`.

    ``adata.<name>`` then gives an instance of the class built from ``adata`` (once per object,
    then cached on it), so that packages can add methods without subclassing AnnData.

    Parameters
    ----------
    name
        The attribute name. Names that AnnData defines itself (``X``, ``obs``, ``copy``,
        ``write``, ...) are refused.

    Returns
    -------
    Callable
        The class decorator. The class's ``__init__`` must take the AnnData object as its second
        parameter, named ``adata`` and annotated as ``AnnData``.

    Raises
    ------
    AttributeError
        If ``name`` is an attribute of AnnData, or ``adata`` is not annotated.
    TypeError
        If ``__init__`` takes no object, or its parameter is misnamed or mis-annotated.

    Warns
    -----
    UserWarning
        If ``name`` replaces a namespace registered before.

    Examples
    --------
    >>> import annstore as ad
    >>> @ad.register_anndata_namespace("greet")
    ... class Greet:
    ...     def __init__(self, adata: ad.AnnData) -> None:
    ...         self._adata = adata
    ...     def hello(self) -> str:
    ...         return f"hello, {self._adata.n_obs} cells"
    >>> ad.AnnData(shape=(3, 2)).greet.hello()
    'hello, 3 cells'
    """
    return _register(name)
