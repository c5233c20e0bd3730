"""The Retail Prices API client, the conversion, the cache and the shipped table's build.

The client runs against a loopback server answering in the API's documented format
(tests/infra/price_server.py): paging, errors, throttling, time-outs, malformed answers.
"""

from __future__ import annotations

import json
import socket
from datetime import date as datetime_date
from pathlib import Path
from typing import Any

import pytest
from mlstart_infra.prices import RetailPricesError, build, cache
from mlstart_infra.prices.client import RetailPricesClient
from mlstart_infra.prices.convert import Answer, convert
from mlstart_infra.prices.queries import Query, queries_for
from mlstart_infra.pricing import PriceNeed, PriceTable, PriceTableError

from tests.infra.price_server import PriceServer, Reply, item, page, serving

VM_FILTER = (
    "serviceName eq 'Virtual Machines' and armRegionName eq 'westeurope' "
    "and armSkuName eq 'Standard_NC4as_T4_v3' and priceType eq 'Consumption'"
)


class Sleeps(list[float]):
    """Records the waits a client asks for, without waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(server: PriceServer, **options: Any) -> RetailPricesClient:
    options.setdefault("sleep", Sleeps())
    options.setdefault("timeout", 5)
    return RetailPricesClient(base_url=server.url, **options)


def test_every_page_is_followed_and_the_filter_sent_as_documented() -> None:
    items = [item(retailPrice=0.1 * n, meterId=f"m-{n}") for n in range(1, 8)]
    with serving(PriceServer(items, page_size=3)) as server:
        found = client(server).items(VM_FILTER)
    assert [i["meterId"] for i in found] == [f"m-{n}" for n in range(1, 8)]
    first, *rest = server.requests
    assert first == {"api-version": "2023-01-01-preview", "meterRegion": "'primary'",
                     "currencyCode": "'USD'", "$filter": VM_FILTER}  # fmt: skip
    assert [r.get("$skip") for r in rest] == ["3", "6"]  # 3 pages, from NextPageLink


def test_a_server_error_then_a_throttle_are_retried_after_the_asked_wait() -> None:
    with serving(PriceServer([item()])) as server:
        server.replies = [Reply(500, b"oops"), Reply(429, b"", {"Retry-After": "2"})]
        sleeps = Sleeps()
        found = client(server, sleep=sleeps).items(VM_FILTER)
    assert len(found) == 1 and len(server.requests) == 3
    assert sleeps == [1.0, 2.0]  # a backoff for the 500, Retry-After for the 429


@pytest.mark.parametrize(
    ("replies", "message"),
    [([Reply(503, b"busy")] * 3, "answered HTTP 503"),
     ([Reply(400, json.dumps({"Error": {"Message": "bad filter"}}).encode())],
      "answered HTTP 400 Bad Request: {\"Error\": {\"Message\": \"bad filter\"}}"),
     ([Reply(429, b"", {"Retry-After": "3600"})], "asks to wait 3600 s"),
     ([Reply(200, b"<html>not json</html>")], "not JSON"),
     ([Reply(200, {"Count": 0, "NextPageLink": None})], "page 1 has no 'Items' list"),
     ([Reply(200, page([item(retailPrice="0.5")]))], "item 1 of page 1 has no valid 'retailPrice'"),
     ([Reply(200, page([{k: v for k, v in item().items() if k != "meterName"}]))],
      "no valid 'meterName'"),
     ([Reply(200, page([item(currencyCode="EUR")]))], "answered in EUR, not in USD"),
     ([Reply(200, page([item()], "https://elsewhere.example/api?$skip=1"))],
      "NextPageLink leads to https://elsewhere.example")],
)  # fmt: skip
def test_errors_and_malformed_answers_are_one_clear_error(
    replies: list[Reply], message: str
) -> None:
    with serving(PriceServer([item()])) as server:
        server.replies = list(replies)
        with pytest.raises(RetailPricesError) as raised:
            client(server, retries=2).items(VM_FILTER)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert len(server.requests) == len(replies)  # no retry for what retrying cannot fix


def test_a_server_that_does_not_answer_in_time_is_a_time_out() -> None:
    with serving(PriceServer([item()])) as server:
        server.replies = [Reply(delay=1.0), Reply(delay=1.0)]
        sleeps = Sleeps()
        with pytest.raises(RetailPricesError, match=r"did not answer within 0.2 s \(2 attempts\)"):
            client(server, timeout=0.2, retries=1, sleep=sleeps).items(VM_FILTER)
    assert sleeps == [1.0]


def test_an_unreachable_api_is_one_clear_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    asker = RetailPricesClient(base_url=f"http://127.0.0.1:{port}/api", sleep=Sleeps())
    with pytest.raises(
        RetailPricesError, match=f"cannot reach the Retail Prices API at 127.0.0.1:{port}"
    ):
        asker.items(VM_FILTER)


def test_another_currency_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(PriceServer([item(currencyCode="EUR")])) as server:
        monkeypatch.setenv("MLSTART_PRICES_URL", server.url)
        assert RetailPricesClient(currency="EUR").items(VM_FILTER)[0]["currencyCode"] == "EUR"
    assert server.requests[0]["currencyCode"] == "'EUR'"


def _converted(*items: dict[str, Any], day: str = "2026-11-25") -> Any:
    return convert([Answer(Query(VM_FILTER, "vm"), list(items))], recorded_on=day)


def test_vm_prices_are_linux_pay_as_you_go_primary_with_spot_and_low_priority_apart() -> None:
    result = _converted(
        item(),
        item(skuName="NC4as T4 v3 Spot", retailPrice=0.2),
        item(skuName="NC4as T4 v3 Low Priority", retailPrice=0.12),
        item(productName="Virtual Machines NCasT4 v3 Series Windows", retailPrice=0.9),
        item(type="DevTestConsumption", retailPrice=0.5),
        item(type="Reservation", retailPrice=3000.0, unitOfMeasure="1 Year"),
        item(isPrimaryMeterRegion=False, retailPrice=0.7),
        item(effectiveEndDate="2026-01-01T00:00:00Z", retailPrice=0.8),
    )
    assert result.problems == []
    prices = {path[0]: entry["price"] for path, entry in result.entries()}
    assert prices == {"vm_hourly": 0.59, "vm_spot_hourly": 0.2, "vm_low_priority_hourly": 0.12}
    path, entry = result.entries()[-1]
    assert path == ("vm_spot_hourly", "Standard_NC4as_T4_v3", "westeurope")
    assert (entry["recorded_on"], entry["query"]) == ("2026-11-25", VM_FILTER)


def test_tiers_units_and_ambiguity() -> None:
    aca = {"serviceName": "Azure Container Apps", "productName": "Azure Container Apps",
           "skuName": "Standard", "armSkuName": ""}  # fmt: skip
    result = _converted(
        item(**aca, meterName="Standard vCPU Active Usage", unitOfMeasure="1 Second",
             retailPrice=0.0, tierMinimumUnits=0.0),
        item(**aca, meterName="Standard vCPU Active Usage", unitOfMeasure="1 Second",
             retailPrice=0.000024, tierMinimumUnits=180000.0),
        item(**aca, meterName="Standard Memory Active Usage", unitOfMeasure="1 Hour"),
        item(serviceName="Container Registry", productName="Container Registry", armSkuName="",
             skuName="Basic", meterName="Basic Registry Unit", unitOfMeasure="1/Day",
             retailPrice=0.1667),
        item(armSkuName="Standard_D4s_v5", retailPrice=0.2),
        item(armSkuName="Standard_D4s_v5", retailPrice=0.3, productName="Virtual Machines X"),
    )  # fmt: skip
    entries = {path: entry for path, entry in result.entries()}
    assert entries[("container_apps", "vcpu_second", "westeurope")]["price"] == 0.000024
    registry = entries[("container_registry_monthly", "Basic", "westeurope")]
    assert (registry["price"], registry["retail_price"]) == (round(0.1667 * 730 / 24, 6), 0.1667)
    assert ("container_apps", "gib_second", "westeurope") not in entries
    assert ("vm_hourly", "Standard_D4s_v5", "westeurope") not in entries
    assert any("unit '1 Hour', expected '1 GiB Second'" in p for p in result.problems)
    assert any("Standard_D4s_v5" in p and "different prices (0.2, 0.3)" in p
               for p in result.problems)  # fmt: skip


def test_disk_meters_map_to_sizes_and_queries_are_deduplicated_and_escaped() -> None:
    disk = {"serviceName": "Storage", "productName": "Premium SSD Managed Disks",
            "unitOfMeasure": "1/Month", "armSkuName": ""}  # fmt: skip
    result = _converted(
        item(**disk, skuName="P10 LRS", meterName="P10 LRS Disk", retailPrice=21.68),
        item(**disk, skuName="P15 ZRS", meterName="P15 Disks", retailPrice=50.0),
        item(**disk, skuName="P10 LRS", meterName="P10 LRS Disk Mount", retailPrice=1.0),
    )
    assert [path for path, _ in result.entries()] == [
        ("managed_disk_monthly", "Premium_LRS", "westeurope", "128"),
        ("managed_disk_monthly", "Premium_ZRS", "westeurope", "256"),
    ]
    needs = [PriceNeed("vm_hourly", "Standard_D4s_v5", "eastus"),
             PriceNeed("vm_low_priority_hourly", "Standard_D4s_v5", "eastus"),
             PriceNeed("nat_gateway", "hourly", "eastus"),
             PriceNeed("nat_gateway", "per_gb_processed", "westeurope"),
             PriceNeed("managed_disk_monthly", "UltraSSD_LRS", "eastus"),
             PriceNeed("bastion_hourly", "Basic", "o'hare")]  # fmt: skip
    queries = queries_for(needs)
    assert [q.what for q in queries] == [
        "Standard_D4s_v5 in eastus",
        "NAT Gateway",
        "Azure Bastion in o'hare",
    ]
    assert "armRegionName eq 'Global'" in queries[1].filter
    assert "armRegionName eq 'o''hare'" in queries[2].filter


def test_the_shipped_table_is_the_build_of_the_recorded_answer() -> None:
    recorded = build.load_recorded()
    assert build.shipped_path().read_text(encoding="utf-8") == build.render(
        build.build_table(recorded)
    ), "prices.json is stale: run `python -m mlstart_infra.prices build`"
    for answer in recorded["answers"]:
        for one in answer["pages"]:
            assert set(one) == {"BillingCurrency", "CustomerEntityId", "CustomerEntityType",
                                "Items", "NextPageLink", "Count"}  # fmt: skip
            assert one["Count"] == len(one["Items"])
    assert "Reconstruction, not a recording" in recorded["source"]


def test_record_asks_the_recorded_queries_again_and_builds(tmp_path: Path) -> None:
    recorded = build.load_recorded()
    recorded["answers"] = recorded["answers"][:2]
    served = [dict(i, retailPrice=i["retailPrice"] * 2)
              for a in recorded["answers"] for p in a["pages"] for i in p["Items"]]  # fmt: skip
    with serving(PriceServer(served)) as server:
        again = build.record(recorded, client(server), today="2027-01-02")
        path = tmp_path / "recorded.json"
        path.write_text(build.render(again), encoding="utf-8")
    table = PriceTable(build.build_table(build.load_recorded(path)))
    assert table.recorded_on == "2027-01-02" and server.url in table.source
    old = PriceTable(build.build_table(recorded))
    first = recorded["answers"][0]["pages"][0]["Items"][0]
    size, region = first["armSkuName"], first["armRegionName"]
    assert (
        table.vm_hourly(size, region)
        == 2 * first["retailPrice"]
        == 2 * (old.vm_hourly(size, region) or 0)
    )


def test_the_build_command_checks_and_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlstart_infra.prices.__main__ import main

    out = tmp_path / "prices.json"
    assert main(["build", "--check", "--out", str(out)]) == 1
    assert main(["build", "--out", str(out)]) == 0
    assert main(["build", "--check", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == build.shipped_path().read_text(encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    assert main(["build", "--recorded", str(bad), "--out", str(out)]) == 1
    assert "is not a recorded answer: no 'source' text" in capsys.readouterr().err


def test_cache_location_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MLSTART_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_path() == tmp_path / "xdg" / "mlstart" / "prices.json"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.cache_path() == tmp_path / ".cache" / "mlstart" / "prices.json"
    monkeypatch.setenv("MLSTART_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.cache_path() == tmp_path / "mine" / "prices.json"


def _fetched(price: float, size: str = "Standard_NC4as_T4_v3", day: str = "2026-11-25") -> Any:
    return _converted(item(armSkuName=size, retailPrice=price), day=day)


def test_a_refresh_merges_into_the_cache_which_the_plan_reads_over_the_shipped_table() -> None:
    api = "http://127.0.0.1/api"
    first = cache.merged(None, _fetched(1.0), recorded_on="2026-11-20", currency="USD", api=api)
    second = cache.merged(first, _fetched(2.0, "Standard_D4s_v5"), recorded_on="2026-11-25",
                          currency="USD", api=api)  # fmt: skip
    written = cache.write_cache(second)
    assert [p.name for p in written.parent.iterdir()] == ["prices.json"]  # no temporary left
    table = cache.plan_table()
    nc4 = table.vm_quote("Standard_NC4as_T4_v3", "westeurope")
    assert nc4 is not None and (nc4.value, nc4.query) == (1.0, VM_FILTER)
    assert table.vm_hourly("Standard_D4s_v5", "westeurope") == 2.0
    shipped = PriceTable.load()
    eastus = table.vm_quote("Standard_NC4as_T4_v3", "eastus")  # not fetched: shipped
    assert eastus is not None and (eastus.source, eastus.value) == (
        shipped.source,
        shipped.vm_hourly("Standard_NC4as_T4_v3", "eastus"),
    )
    euro = cache.merged(second, _fetched(3.0), recorded_on="2026-11-26", currency="EUR", api=api)
    cache.write_cache(euro)
    alone = cache.plan_table()  # another currency: never mixed with the shipped USD table
    assert alone.vm_hourly("Standard_D4s_v5", "westeurope") is None
    assert alone.vm_hourly("Standard_NC4as_T4_v3", "eastus") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "is not JSON"), ('{"currency": "USD"}', "no 'source' text"),
     ('{"currency": "USD", "source": "s", "recorded_on": "d", "vm_hourly": {"X": {"r": "1"}}}',
      "vm_hourly.X.r is not a price")],
)  # fmt: skip
def test_a_broken_cache_is_refused_with_its_name(text: str, message: str) -> None:
    cache.cache_path().parent.mkdir(parents=True, exist_ok=True)
    cache.cache_path().write_text(text, encoding="utf-8")
    with pytest.raises(PriceTableError, match=message):
        cache.plan_table()


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from mlstart.cli import main

    with pytest.raises(SystemExit) as exited:
        main(args)
    code = exited.value.code
    captured = capsys.readouterr()
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def test_prices_show_names_the_cache_and_the_shipped_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(["prices", "show"], capsys)
    assert code == 0 and f"No price cache ({cache.cache_path()})" in out
    shipped = PriceTable.load().recorded_on
    assert f"Shipped table (used for what a cache in its currency lacks), recorded {shipped}" in out
    merged = cache.merged(None, _fetched(1.0, day="2026-11-20"), recorded_on="2026-11-20",
                          currency="USD", api="http://127.0.0.1/api")  # fmt: skip
    merged = cache.merged(merged, _fetched(2.0, "Standard_D4s_v5", "2026-11-25"),
                          recorded_on="2026-11-25", currency="USD", api="http://x/api")  # fmt: skip
    cache.write_cache(merged)
    code, out, _ = run_cli(["prices", "show"], capsys)
    assert code == 0 and f"Price cache: {cache.cache_path()}" in out
    assert "2 prices in USD, fetched 2026-11-20 to 2026-11-25" in out


@pytest.mark.parametrize(
    ("args", "cache_text", "code", "message"),
    [(["prices", "refresh", ".", "--currency", "euro"], None, 2,
      "error: currency 'euro' is not an ISO 4217 code"),
     (["plan", "."], "{broken", 1, "is not JSON"),
     (["prices", "show"], '{"currency": "USD"}', 1, "is not a price table: no 'source' text")],
)  # fmt: skip
def test_bad_input_is_one_line_and_a_non_zero_exit(
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    cache_text: str | None,
    code: int,
    message: str,
) -> None:
    if cache_text is not None:
        cache.cache_path().parent.mkdir(parents=True, exist_ok=True)
        cache.cache_path().write_text(cache_text, encoding="utf-8")
    status, out, err = run_cli(args, capsys)
    assert (status, out) == (code, "")
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    if cache_text is not None:
        assert "run `mlstart prices refresh` to replace it" in err


def test_the_plan_text_dates_every_price_and_lists_its_sources() -> None:
    from mlstart.commands.plan import _costs
    from mlstart.core.plan import PlanReport
    from mlstart_infra.offline.graph import PlannedResource, ResourceGraph
    from mlstart_infra.pricing import estimate

    def vm(name: str, size: str) -> PlannedResource:
        return PlannedResource(urn=f"urn:{name}", type="azure-native:compute:VirtualMachine",
                               name=name, azure_name=name, custom=True, id=f"/id/{name}",
                               inputs={"location": "westeurope",
                                       "hardwareProfile": {"vmSize": size}})  # fmt: skip

    graph = ResourceGraph("p", "dev", [vm("a", "Standard_D4s_v5"), vm("b", "Standard_D4s_v3")])
    fetched = {"currency": "USD", "source": "the live API", "recorded_on": "2027-03-01",
               "vm_hourly": {"Standard_D4s_v5": {"westeurope": 0.3}}}  # fmt: skip
    report = PlanReport(
        graph, [], [], estimate(graph, prices=PriceTable(fetched, PriceTable.load()))
    )
    text = "\n".join(_costs(report, today=datetime_date(2027, 3, 10)))
    assert "list prices recorded 2026-11-23 to 2027-03-01" in text
    rows = [
        line for line in text.splitlines() if line.startswith("  a ") or line.startswith("  b ")
    ]
    assert [row.split()[-2:] for row in rows] == [
        ["2027-03-01", "[1]"],
        ["2026-11-23", "[2]"],
        ["2026-11-23", "[2]"],
        ["2026-11-23", "[2]"],
    ]
    assert "    [1] the live API\n" in text + "\n"
    assert (
        f"    [2] {PriceTable.load().source} (oldest price 107 days old: "
        "run `mlstart prices refresh`)" in text
    )
