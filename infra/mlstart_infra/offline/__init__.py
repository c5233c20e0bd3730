"""The offline runner: a Pulumi program under recording mocks, and the graph it records.

Nothing here is imported by ``pulumi up``: :mod:`.mocks` is the test harness (generated
projects get a copy for their own tests), :mod:`.graph` the plain-data resource graph that
policies, prices, conformance and the ARM export read, and :mod:`.plan` runs a project's
program and turns what it registered into that graph.
"""
