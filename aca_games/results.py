"""Results of sweeps: an embedded SQLite file, one row per finished grid cell.

A sweep (``aca-games sweep``) writes each finished cell in its own transaction, so a crash or a
kill loses no finished cell; a cell's ``key`` is a canonical hash of the scenario, the cell's
parameters and the run settings (:func:`cell_key`), the table's primary key, so re-running the
same command skips every cell already stored and never stores one twice. The database uses
SQLite's write-ahead log, so :func:`load` can read while a sweep writes.

Table ``cells``::

    key TEXT PRIMARY KEY   -- sha256 of {scenario, params, settings, version}
    sweep TEXT             -- hash of {scenario, grid axes, settings}: which command made the row
    position INTEGER       -- the cell's index in its grid (the last axis varies fastest)
    params TEXT            -- JSON {field path: value}
    settings TEXT          -- JSON run settings (null without a learner)
    result TEXT            -- JSON: per collective, the oracle, bounds and (with a learner) the runs
    error TEXT             -- the input error that stopped this cell, if any
    seconds REAL           -- compute time of the cell
    finished TEXT          -- UTC time the row was written

:func:`load` returns a pandas DataFrame, one row per cell (pandas is a core dependency).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from aca_games._errors import ACAInputError

__all__ = ["RESULT_VERSION", "Store", "canonical_json", "cell_key", "flatten", "load"]

#: Bumped when a cell's result format changes (old rows then no longer match new keys).
RESULT_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cells (
    key TEXT PRIMARY KEY,
    sweep TEXT NOT NULL,
    position INTEGER NOT NULL,
    params TEXT NOT NULL,
    settings TEXT,
    result TEXT,
    error TEXT,
    seconds REAL,
    finished TEXT NOT NULL
)
"""


def canonical_json(value) -> str:
    """JSON with sorted keys and no spaces: equal values give equal text (the hash input)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def cell_key(scenario: Mapping, params: Mapping, settings: Mapping | None) -> str:
    """The cell's identity: sha256 of the canonical JSON of the parsed scenario file, the cell's
    ``{path: value}`` and the run settings (``None`` without a learner).

    >>> cell_key({"a": 1}, {"x": 0.1}, None) == cell_key({"a": 1}, {"x": 0.1}, None)
    True
    >>> cell_key({"a": 1}, {"x": 0.1}, None) == cell_key({"a": 1}, {"x": 0.2}, None)
    False
    """
    payload = {"scenario": scenario, "params": params, "settings": settings, "version": RESULT_VERSION}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


class Store:
    """The SQLite file of a sweep: open (created if missing), read finished keys, write cells."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            self._db.commit()
        except (OSError, sqlite3.DatabaseError) as err:
            raise ACAInputError(
                f"--db: cannot use {self.path} as a results database ({err}); "
                "pick a writable path for a new or existing sweep file"
            ) from None

    def finished(self, keys: Iterable[str] | None = None) -> set[str]:
        """Keys already stored (among ``keys``, if given)."""
        done = {row[0] for row in self._db.execute("SELECT key FROM cells")}
        return done if keys is None else done & set(keys)

    def write(
        self,
        key: str,
        sweep: str,
        position: int,
        params: Mapping,
        settings: Mapping | None,
        result: Mapping | None,
        error: str | None,
        seconds: float,
    ) -> bool:
        """Store one finished cell in its own transaction; ``False`` if the key was already there."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        settings_text = None if settings is None else canonical_json(settings)
        result_text = None if result is None else json.dumps(result)
        params_text = canonical_json(params)
        row = (key, sweep, position, params_text, settings_text, result_text, error, seconds, stamp)
        try:
            with self._db:
                self._db.execute("INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        except sqlite3.IntegrityError:
            return False
        return True

    def close(self) -> None:
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def flatten(value, prefix: str = "") -> dict:
    """Nested dicts -> ``{"a.b.c": leaf}``; lists (per-seed values) are left out.

    >>> flatten({"a": {"b": 1, "c": [1, 2]}, "d": None})
    {'a.b': 1, 'd': None}
    """
    out = {}
    for k, val in value.items():
        name = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(val, Mapping):
            out.update(flatten(val, name))
        elif not isinstance(val, list):
            out[name] = val
    return out


def load(path: str | Path, *, raw: bool = False):
    """The sweep results in ``path`` as a pandas DataFrame, one row per cell, ordered by sweep and
    grid position.

    Columns: ``sweep``, ``position``, one column per grid path (its value), the run settings
    (``learner``, ``seeds``, ``users``, ...; absent without a learner), then per collective ``C``
    columns ``"C/<metric>"``: ``C/success`` (exact, all acting), ``C/success_alone``,
    ``C/bounds.closed_form``, ``C/bounds.staircase``, ``C/bounds.finite_sample``,
    ``C/critical_mass.exact``..., ``C/per_point``, ``C/multi_closed_form``, ``C/bloc`` and, with a
    learner, ``C/trained.measured.mean``, ``C/trained.measured.ci_low``,
    ``C/trained.bounds.<bound>.held``...; finally ``error``, ``seconds``, ``finished`` and ``key``.
    With ``raw=True`` a ``result`` column holds each cell's full result (per-seed values too).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ACAInputError(f"{path}: no such results file; run `aca-games sweep ... --db {path}` first")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        rows = db.execute(
            "SELECT key, sweep, position, params, settings, result, error, seconds, finished "
            "FROM cells ORDER BY sweep, position"
        ).fetchall()
        db.close()
    except sqlite3.DatabaseError as err:
        raise ACAInputError(f"{path}: not a sweep results database ({err})") from None
    records = []
    for key, sweep, position, params, settings, result, error, seconds, finished in rows:
        record = {"sweep": sweep, "position": position, **json.loads(params)}
        if settings is not None:
            record.update({k: val for k, val in json.loads(settings).items() if not isinstance(val, dict)})
        parsed = json.loads(result) if result is not None else None
        for name, metrics in (parsed or {}).get("collectives", {}).items():
            record.update({f"{name}/{k}": val for k, val in flatten(metrics).items()})
        record.update({"error": error, "seconds": seconds, "finished": finished, "key": key})
        if raw:
            record["result"] = parsed
        records.append(record)
    return pd.DataFrame.from_records(records)
