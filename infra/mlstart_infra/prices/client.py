"""A client for the Azure Retail Prices API: one filter in, every item of every page out.

What it relies on, from
https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices:

* ``GET https://prices.azure.com/api/retail/prices`` needs no login; ``$filter`` takes
  OData ``eq`` and ``and`` on fields such as ``serviceName``, ``armRegionName``,
  ``armSkuName``, ``productName``, ``meterName`` and ``priceType``; values are
  case-sensitive from ``api-version=2023-01-01-preview`` on.
* ``meterRegion='primary'`` (API versions 2021-10-01 and later) keeps primary meters only;
  ``currencyCode='EUR'`` asks for another currency (USD is the billing currency; the
  others are for reference).
* An answer holds ``BillingCurrency``, ``CustomerEntityId``, ``CustomerEntityType``,
  ``Items`` (at most 1,000 per page), ``NextPageLink`` (the next page's URL, null on the
  last page) and ``Count``.

Only the standard library is used, so the client works without the ``azure`` extra.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mlstart_infra.prices import RetailPricesError

DEFAULT_URL = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"
#: Overrides :data:`DEFAULT_URL` (a mirror, a proxy, or a test server).
URL_ENV_VAR = "MLSTART_PRICES_URL"
#: HTTP statuses worth asking again: throttled, or a server that failed for now.
RETRYABLE = frozenset({429, 500, 502, 503, 504})
#: The longest wait a ``Retry-After`` may ask for before the client gives up.
MAX_RETRY_AFTER = 60.0
#: More than this many bytes in one page is not an answer of this API.
MAX_PAGE_BYTES = 16 * 1024 * 1024
#: The item fields the conversion reads, and their JSON types.
ITEM_FIELDS: dict[str, type | tuple[type, ...]] = {
    "currencyCode": str,
    "retailPrice": (int, float),
    "unitOfMeasure": str,
    "armRegionName": str,
    "serviceName": str,
    "productName": str,
    "skuName": str,
    "meterName": str,
    "type": str,
}


def default_url() -> str:
    """The API's address: ``MLSTART_PRICES_URL`` when set, else Microsoft's."""
    return os.environ.get(URL_ENV_VAR, "").strip() or DEFAULT_URL


def odata_text(value: str) -> str:
    """``value`` as an OData string literal (a quote inside it is doubled)."""
    return "'" + value.replace("'", "''") + "'"


@dataclass
class RetailPricesClient:
    """Asks the Retail Prices API, following its pages, retrying what is worth retrying.

    Attributes:
        base_url: The API's address (see :func:`default_url`).
        currency: The ISO currency code asked for (``currencyCode``).
        timeout: Seconds each request may take.
        retries: How many times a throttled, failed (5xx) or timed-out request is
            repeated before giving up.
        max_pages: The most pages one filter may take (a loop guard).
        sleep: Waits between attempts (tests pass one that does not sleep).
    """

    base_url: str = field(default_factory=default_url)
    currency: str = "USD"
    timeout: float = 30.0
    retries: int = 3
    max_pages: int = 100
    sleep: Callable[[float], None] = time.sleep

    def url_for(self, odata_filter: str) -> str:
        """The first page's URL for a ``$filter``."""
        query = urllib.parse.urlencode(
            {
                "api-version": API_VERSION,
                "meterRegion": "'primary'",
                "currencyCode": odata_text(self.currency),
                "$filter": odata_filter,
            },
            quote_via=urllib.parse.quote,
        )
        return f"{self.base_url}?{query}"

    def items(self, odata_filter: str) -> list[dict[str, Any]]:
        """Every item that matches the filter, page after page.

        Raises:
            RetailPricesError: If the API cannot be reached, answers with an error after
                the retries, or answers something that is not a page of prices.
        """
        return [item for page in self.pages(odata_filter) for item in page["Items"]]

    def pages(self, odata_filter: str) -> list[dict[str, Any]]:
        """Every page of the answer to a filter, as the API sent them (each one checked).

        Raises:
            RetailPricesError: As :meth:`items`.
        """
        url: str | None = self.url_for(odata_filter)
        pages: list[dict[str, Any]] = []
        seen: set[str] = set()
        while url is not None:
            if len(seen) >= self.max_pages or url in seen:
                raise RetailPricesError(
                    f"the Retail Prices API did not stop paging after {len(seen)} pages"
                )
            seen.add(url)
            page = self._get(url)
            _check_items(page, len(seen), self.currency)
            pages.append(page)
            url = self._next_link(page, len(seen))
        return pages

    def _next_link(self, page: dict[str, Any], number: int) -> str | None:
        link = page.get("NextPageLink")
        if link is None or link == "":
            return None
        if not isinstance(link, str):
            raise RetailPricesError(f"malformed answer: page {number}'s NextPageLink is no URL")
        base, nxt = urllib.parse.urlsplit(self.base_url), urllib.parse.urlsplit(link)
        if (nxt.scheme, nxt.hostname) != (base.scheme, base.hostname):
            raise RetailPricesError(
                f"page {number}'s NextPageLink leads to {nxt.scheme}://{nxt.hostname}, "
                f"not to the API asked ({base.scheme}://{base.hostname})"
            )
        return link

    def _get(self, url: str) -> dict[str, Any]:
        """One page, asked again after a throttle, a server error or a time-out."""
        host = urllib.parse.urlsplit(url).netloc
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                body = self._fetch(url)
            except urllib.error.HTTPError as error:
                if error.code not in RETRYABLE or last:
                    raise RetailPricesError(_http_failure(error, host)) from error
                self.sleep(_wait(error, attempt))
                continue
            except TimeoutError as error:
                if last:
                    raise RetailPricesError(
                        f"the Retail Prices API at {host} did not answer within "
                        f"{self.timeout:g} s ({self.retries + 1} attempts)"
                    ) from error
                self.sleep(_backoff(attempt))
                continue
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                reason = getattr(error, "reason", error)
                if isinstance(reason, TimeoutError) and not last:
                    self.sleep(_backoff(attempt))
                    continue
                raise RetailPricesError(
                    f"cannot reach the Retail Prices API at {host}: {reason}"
                ) from error
            return _page(body, host)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _fetch(self, url: str) -> bytes:
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", "User-Agent": "mlstart-prices"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:
            body: bytes = answer.read(MAX_PAGE_BYTES + 1)
        if len(body) > MAX_PAGE_BYTES:
            raise RetailPricesError(f"the answer from {url} is larger than {MAX_PAGE_BYTES} bytes")
        return body


def _backoff(attempt: int) -> float:
    return float(min(2**attempt, 30))


def _wait(error: urllib.error.HTTPError, attempt: int) -> float:
    """Seconds to wait: the ``Retry-After`` header (seconds or a date), else a backoff."""
    header = (error.headers.get("Retry-After") or "").strip() if error.headers else ""
    if not header:
        return _backoff(attempt)
    try:
        seconds = float(header)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return _backoff(attempt)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds > MAX_RETRY_AFTER:
        raise RetailPricesError(
            f"the Retail Prices API asks to wait {seconds:.0f} s (HTTP {error.code}); "
            "try again later"
        ) from error
    return max(seconds, 0.0)


def _http_failure(error: urllib.error.HTTPError, host: str) -> str:
    detail = ""
    with contextlib.suppress(OSError):
        detail = error.read(2000).decode("utf-8", "replace").strip()
    detail = " ".join(detail.split())[:200]
    return f"the Retail Prices API at {host} answered HTTP {error.code} {error.reason}" + (
        f": {detail}" if detail else ""
    )


def _page(body: bytes, host: str) -> dict[str, Any]:
    try:
        page = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise RetailPricesError(
            f"malformed answer from the Retail Prices API at {host}: not JSON ({error})"
        ) from error
    if not isinstance(page, dict):
        raise RetailPricesError(f"malformed answer from {host}: not a JSON object")
    return page


def _check_items(page: dict[str, Any], number: int, currency: str) -> None:
    """Check that the page has items, each with the fields the conversion reads."""
    items = page.get("Items")
    if not isinstance(items, list):
        raise RetailPricesError(f"malformed answer: page {number} has no 'Items' list")
    for index, item in enumerate(items, start=1):
        where = f"item {index} of page {number}"
        if not isinstance(item, dict):
            raise RetailPricesError(f"malformed answer: {where} is not an object")
        for name, kind in ITEM_FIELDS.items():
            value = item.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise RetailPricesError(f"malformed answer: {where} has no valid {name!r}")
        if item["currencyCode"] != currency:
            raise RetailPricesError(
                f"the API answered in {item['currencyCode']}, not in {currency} as asked ({where})"
            )
