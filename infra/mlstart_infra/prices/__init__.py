"""Live list prices from the Azure Retail Prices API, and the tables built from them.

Pulumi-free and standard library only:

* :mod:`.client` asks the API (public, no login) and follows its pages;
* :mod:`.queries` turns the prices a plan looks up into the API's filters;
* :mod:`.convert` turns the API's items into a price table (see
  :class:`mlstart_infra.pricing.PriceTable` for the format);
* :mod:`.cache` keeps fetched prices on disk, dated, for later plans;
* :mod:`.build` regenerates the shipped ``prices.json`` from a recorded answer
  (``python -m mlstart_infra.prices build``) and re-records that answer where the API can
  be reached (``python -m mlstart_infra.prices record``).

The API is documented at
https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices.
"""

from __future__ import annotations


class RetailPricesError(Exception):
    """The Retail Prices API could not be asked, or its answer cannot be used."""
