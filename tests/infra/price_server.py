"""A loopback stand-in for the Azure Retail Prices API, answering in its documented format.

Each request is answered by the next scripted :class:`Reply` (an HTTP error, a delay, a
body that is not JSON), else by :meth:`PriceServer.answer`: the items whose fields match
the request's ``$filter`` (``name eq 'value'`` terms joined by ``and``), split into pages
of ``page_size`` items linked by absolute ``NextPageLink`` URLs with ``$skip``, as
https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices
describes.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/api/retail/prices"
_TERM = re.compile(r"^(\w+) eq '((?:[^']|'')*)'$")


@dataclass
class Reply:
    """A scripted answer: a status, headers, a body, after a delay."""

    status: int = 200
    body: bytes | dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def page(items: list[dict[str, Any]], next_link: str | None = None) -> dict[str, Any]:
    """One page in the API's format."""
    return {"BillingCurrency": "USD", "CustomerEntityId": "Default",
            "CustomerEntityType": "Retail", "Items": items, "NextPageLink": next_link,
            "Count": len(items)}  # fmt: skip


def item(**fields: Any) -> dict[str, Any]:
    """A Linux pay-as-you-go VM price item, with ``fields`` changed."""
    base: dict[str, Any] = {
        "currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": 0.59, "unitPrice": 0.59,
        "armRegionName": "westeurope", "location": "EU West",
        "effectiveStartDate": "2024-01-01T00:00:00Z", "meterId": "m-1",
        "meterName": "NC4as T4 v3", "productId": "p-1", "skuId": "p-1/s",
        "productName": "Virtual Machines NCasT4 v3 Series", "skuName": "NC4as T4 v3",
        "serviceName": "Virtual Machines", "serviceId": "s-1", "serviceFamily": "Compute",
        "unitOfMeasure": "1 Hour", "type": "Consumption", "isPrimaryMeterRegion": True,
        "armSkuName": "Standard_NC4as_T4_v3",
    }  # fmt: skip
    base.update(fields)
    return base


def matches(filter_text: str, candidate: dict[str, Any]) -> bool:
    """Whether an item meets every ``name eq 'value'`` term (``priceType`` is ``type``)."""
    for term in filter_text.split(" and "):
        found = _TERM.match(term.strip())
        if not found:
            raise ValueError(f"not a term this stand-in understands: {term!r}")
        name, value = found[1], found[2].replace("''", "'")
        if candidate.get("type" if name == "priceType" else name) != value:
            return False
    return True


class PriceServer:
    """The stand-in's state: the items it holds, scripted replies, requests received."""

    def __init__(self, items: list[dict[str, Any]] | None = None, page_size: int = 1000) -> None:
        self.items = list(items or [])
        self.page_size = page_size
        self.replies: list[Reply] = []
        self.requests: list[dict[str, str]] = []
        self.url = ""

    def answer(self, query: dict[str, str]) -> dict[str, Any]:
        """The page a request asks for."""
        chosen = [i for i in self.items if matches(query.get("$filter", ""), i)]
        skip = int(query.get("$skip", "0"))
        rest = chosen[skip : skip + self.page_size]
        more = skip + self.page_size < len(chosen)
        link = None
        if more:
            params = {**query, "$skip": str(skip + self.page_size)}
            link = f"{self.url}?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"
        return page(rest, link)


def _handler(server: PriceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
            server.requests.append(query)
            reply = server.replies.pop(0) if server.replies else Reply()
            time.sleep(reply.delay)
            body = reply.body if reply.body is not None else server.answer(query)
            data = json.dumps(body).encode() if isinstance(body, dict) else body
            try:
                self.send_response(reply.status)
                for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (a time-out test)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serving(server: PriceServer) -> Iterator[PriceServer]:
    """Serve ``server`` on a free loopback port while the block runs."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.block_on_close = False  # a handler still sleeping must not hold up the test
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}{PATH}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
