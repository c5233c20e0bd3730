"""The project's policy pack: mlstart's security and cost policies, run by Pulumi.

Pulumi starts it for `pulumi preview --policy-pack policy-pack` (from infra/). Each policy has
the id `mlstart plan` shows and reaches the same verdict on the same resources.
"""

from mlstart_infra.policy_pack import serve

serve()
