"""Azure infrastructure for mlstart projects: Pulumi components, an offline plan, policies, prices.

* :mod:`mlstart_infra.components` holds the Pulumi ``ComponentResource`` classes. The same
  package is rendered into every generated project as ``infra/components``, so the project's
  ``pulumi up`` needs nothing from mlstart.
* :mod:`mlstart_infra.plan` runs a Pulumi program under recording mocks (no cloud account and
  no Pulumi CLI) and returns the resource graph it would create.
* :mod:`mlstart_infra.policies` and :mod:`mlstart_infra.pricing` read that graph (type tokens
  and inputs only), so they also judge a program the user has changed.

Importing this package is cheap: Pulumi is imported only by the modules that need it.
"""

from __future__ import annotations
