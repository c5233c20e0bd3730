"""The price cache: prices fetched from the Retail Prices API, kept on disk for later plans.

One file, ``prices.json``, in mlstart's cache folder: ``$MLSTART_CACHE_DIR`` when set, else
``$XDG_CACHE_HOME/mlstart`` (``~/.cache/mlstart`` when that is unset; on Windows
``%LOCALAPPDATA%/mlstart/Cache``), as the XDG Base Directory specification places caches
(https://specifications.freedesktop.org/basedir-spec/latest/). It is a price table (the
format :class:`~mlstart_infra.pricing.PriceTable` reads) whose entries each carry the day
they were fetched and the query that answered them; a refresh replaces the entries it
fetched and keeps the others. It is written atomically: a reader sees the old file or the
new one, never half of one.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mlstart_infra.prices.convert import Conversion, table
from mlstart_infra.pricing import DISK_SECTION, PriceTable, PriceTableError, table_problem

CACHE_ENV_VAR = "MLSTART_CACHE_DIR"
CACHE_FILE = "prices.json"


def cache_dir() -> Path:
    """Mlstart's cache folder (it may not exist yet)."""
    explicit = os.environ.get(CACHE_ENV_VAR, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():  # the spec says to ignore a relative path
        return Path(xdg) / "mlstart"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "mlstart" / "Cache"
    return Path.home() / ".cache" / "mlstart"


def cache_path() -> Path:
    """Where the price cache is (it may not exist)."""
    return cache_dir() / CACHE_FILE


def read_cache(path: Path | None = None) -> dict[str, Any] | None:
    """The cached price table, or None when there is none.

    Raises:
        PriceTableError: If the file is not a price table (the message says which file).
        OSError: If it exists but cannot be read.
    """
    where = path or cache_path()
    if not where.is_file():
        return None
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise PriceTableError(f"the price cache {where} is not JSON ({error})") from error
    problem = table_problem(data)
    if problem:
        raise PriceTableError(f"the price cache {where} is not a price table: {problem}")
    return data  # type: ignore[no-any-return]


def plan_table(path: Path | None = None) -> PriceTable:
    """The prices a plan uses: the cache over the shipped table, or the shipped table alone.

    A cache in another currency than the shipped table is used alone: the two are never
    mixed in one estimate.

    Raises:
        PriceTableError: If the cache is not a price table.
        OSError: If it cannot be read.
    """
    shipped = PriceTable.load()
    cached = read_cache(path)
    if cached is None:
        return shipped
    same = str(cached.get("currency")) == shipped.currency
    return PriceTable(cached, shipped if same else None)


def merged(
    old: dict[str, Any] | None,
    fetched: Conversion,
    *,
    recorded_on: str,
    currency: str,
    api: str,
) -> dict[str, Any]:
    """The cache after a refresh: the fetched entries over the old ones.

    An old cache in another currency is dropped, not mixed. A disk product's sizes are
    replaced together for each region fetched (one query answers them all).
    """
    source = (
        f"Azure Retail Prices API ({api}): list prices, pay-as-you-go, fetched by "
        "`mlstart prices refresh` on the date of each price"
    )
    keep = old if old is not None and old.get("currency") == currency else None
    data = copy.deepcopy(keep) if keep else table(
        Conversion(), source=source, recorded_on=recorded_on, currency=currency, api=api
    )  # fmt: skip
    data.update(source=source, recorded_on=max(recorded_on, str(data.get("recorded_on", ""))),
                currency=currency, api=api)  # fmt: skip
    cleared: set[tuple[str, ...]] = set()
    for path, entry in fetched.entries():
        if path[0] == DISK_SECTION and path[:3] not in cleared:
            data.setdefault(DISK_SECTION, {}).setdefault(path[1], {})[path[2]] = {}
            cleared.add(path[:3])
        node = data
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = entry
    return data


def write_cache(data: dict[str, Any], path: Path | None = None) -> Path:
    """Write the cache atomically (a temporary file renamed over the old one).

    Raises:
        OSError: If the folder or file cannot be written.
    """
    where = path or cache_path()
    where.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".prices-", suffix=".tmp", dir=where.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, where)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return where
