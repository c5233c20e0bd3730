"""`mlstart prices refresh` on a generated project, against a loopback Retail Prices API."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from typing import Any

import pytest
from mlstart.cli import main
from mlstart_infra.prices import build, cache
from mlstart_infra.pricing import PriceTable

from tests.conftest import Generate
from tests.infra.price_server import PriceServer, serving
from tests.infra.test_plan_command import plan_json


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(args)
    code = exited.value.code
    captured = capsys.readouterr()
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def _recorded_items(vm_factor: float) -> list[dict[str, Any]]:
    """The recorded answer's items, as the stand-in API serves them, VM prices scaled."""
    items = [i for a in build.load_recorded()["answers"] for p in a["pages"] for i in p["Items"]]
    return [dict(i, retailPrice=i["retailPrice"] * vm_factor)
            if i["serviceName"] == "Virtual Machines" else i for i in items]  # fmt: skip


def _vm_line(report: dict[str, Any]) -> dict[str, Any]:
    return next(x for x in report["cost"]["lines"] if x["type"].endswith(":VirtualMachine"))


def test_a_refresh_rewrites_the_cache_and_the_plans_figures_and_a_failed_one_changes_nothing(
    generate: Generate, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One test, three plans (each takes a second): refresh, the plan after, a failed refresh."""
    project = generate("Price Demo")
    shipped = PriceTable.load().vm_quote("Standard_NC4as_T4_v3", "westeurope")
    assert shipped is not None and not cache.cache_path().exists()

    with serving(PriceServer(_recorded_items(vm_factor=2.0))) as server:
        monkeypatch.setenv("MLSTART_PRICES_URL", server.url)
        code, out, err = run(["prices", "refresh", str(project)], capsys)
    assert code == 0, err
    today = datetime.now(UTC).date().isoformat()
    assert f"from {server.url} on {today}, in USD" in out
    assert "vm_hourly                  Standard_NC4as_T4_v3" in out
    assert f"Price cache: {cache.cache_path()}" in out
    filters = [r["$filter"] for r in server.requests]
    assert len(filters) == len(set(filters)) and all("priceType eq 'Consumption'" in f
                                                     for f in filters)  # fmt: skip

    after = plan_json(project, capsys)
    vm = _vm_line(after)  # the shipped table's price before: now the API's, twice as high
    assert vm["always_on"] == pytest.approx(2 * shipped.value * 730, abs=0.01)
    assert server.url in vm["source"] and vm["recorded_on"] == today
    assert "armSkuName eq 'Standard_NC4as_T4_v3'" in vm["query"]
    priced = [x for x in after["cost"]["lines"] if x["basis"] in ("compute", "fixed")]
    assert priced and all(x["recorded_on"] == today and x["source"] for x in priced)
    assert after["cost"]["prices_recorded_on"] == today
    written = cache.cache_path().read_bytes()

    with socket.socket() as probe:  # nothing listens there any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MLSTART_PRICES_URL", f"http://127.0.0.1:{port}/api/retail/prices")
    code, out, err = run(["prices", "refresh", str(project)], capsys)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: cannot reach the Retail Prices API at 127.0.0.1:{port}")
    assert err.count("\n") == 1 and "the price cache was not changed" in err
    assert cache.cache_path().read_bytes() == written
    assert json.loads(written)["currency"] == "USD"
