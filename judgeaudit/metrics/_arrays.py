"""Checking and encoding the arrays every metric takes: one dimension, equal lengths,
missing values, and integer codes of categorical labels against one shared category list.
Internal to :mod:`judgeaudit.metrics` (binary and agreement metrics both build on it)."""

from __future__ import annotations

import math

import numpy as np

from judgeaudit.errors import ValidationError


def _py(v):
    return v.item() if isinstance(v, np.generic) else v


def _missing_mask(arr: np.ndarray) -> np.ndarray:
    """True where an entry is missing: None, NaN, pandas NA / NaT."""
    if arr.dtype.kind == "f":
        return np.isnan(arr)
    if arr.dtype.kind in "biuUS":
        return np.zeros(arr.shape, dtype=bool)
    flat = arr.ravel()
    out = np.fromiter(
        (v is None or (isinstance(v, (float, np.floating)) and math.isnan(v))
         or type(v).__name__ in ("NAType", "NaTType") for v in flat),
        dtype=bool, count=flat.size)
    return out.reshape(arr.shape)


def _as_1d(y, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValidationError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _check_same_length(a, b, names):
    if a.shape[0] != b.shape[0]:
        raise ValidationError(f"{names[0]} and {names[1]} have different lengths "
                              f"({a.shape[0]} and {b.shape[0]}); give one entry per item in each")


def _encode(columns, labels, *, names, allow_missing):
    """Integer codes of categorical arrays against one shared list of labels.

    Returns ``(codes, labels)``: ``codes`` has one int array per input (same shape,
    ``-1`` where missing) and ``labels`` the categories in code order (the sorted set
    of values when ``labels`` is None).
    """
    arrays = [np.asarray(c) for c in columns]
    masks = [_missing_mask(a) for a in arrays]
    if not allow_missing:
        for a, m, name in zip(arrays, masks, names):
            if m.any():
                i = int(np.flatnonzero(m.ravel())[0])
                raise ValidationError(f"{name} has missing values (NaN/None), first at index {i}; "
                                      "drop those items first")
    uniques, inverses = [], []
    for a, m in zip(arrays, masks):
        present = a[~m]
        try:
            u, inv = np.unique(present, return_inverse=True)
        except TypeError:  # an object array of mixed types: factorise by hand
            seen: dict = {}
            inv = np.array([seen.setdefault(v, len(seen)) for v in present], dtype=np.intp)
            u = np.array(list(seen), dtype=object)
        uniques.append([_py(v) for v in u])
        inverses.append(inv.ravel())
    if labels is None:
        found = set().union(*map(set, uniques)) if uniques else set()
        try:
            labels = sorted(found)
        except TypeError as exc:
            raise ValidationError(f"cannot order categories of mixed types {sorted(map(repr, found))}; "
                                  "pass labels= (or categories=) in the order you want") from exc
    else:
        labels = [_py(v) for v in labels]
        if len(set(labels)) != len(labels):
            raise ValidationError(f"labels has duplicates: {labels!r}")
    index = {lab: i for i, lab in enumerate(labels)}
    codes = []
    for a, m, u, inv, name in zip(arrays, masks, uniques, inverses, names):
        unknown = [v for v in u if v not in index]
        if unknown:
            raise ValidationError(f"{name} has values that are not among the labels {labels!r}: "
                                  f"{unknown[:5]!r}; add them to labels= or fix the data")
        lookup = np.array([index[v] for v in u], dtype=np.intp)
        out = np.full(a.shape, -1, dtype=np.intp)
        out[~m] = lookup[inv] if inv.size else np.empty(0, dtype=np.intp)
        codes.append(out)
    return codes, list(labels)


# ------------------------------------------------------------------ Cohen


def _sample_weight(sample_weight, n: int, what: str = "items"):
    """``sample_weight`` as a float array of ``n`` non-negative finite weights (None stays None)."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=float)
    if w.ndim != 1 or w.size != n:
        raise ValidationError(f"sample_weight needs one weight per {what[:-1]}: expected {n}, got shape {w.shape}")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"sample_weight must be finite and non-negative; index {i} is {float(w[i])}")
    return w


def _renamed(new, old, old_name: str, new_name: str = "labels"):
    """The value of a keyword renamed to ``new_name`` (the old spelling still works, with a warning)."""
    if old is None:
        return new
    import warnings

    if new is not None:
        raise ValidationError(f"give {new_name}= only ({old_name}= is its old name)")
    warnings.warn(f"{old_name}= is now {new_name}=; the old name will be removed", FutureWarning, stacklevel=3)
    return old
