"""Typed clients of the services others call: one module a service, each a few functions over
the discovery, breaker and retry of `kit.calls.Peers` (`sales.get_order(peers, name)`), plus
what a caller must know of that service's contract (a trim's name, the orders its events say
were cancelled, the keys its tokens are signed with).

A service never imports another service; it imports the other's client from here. The kit
imports nothing from here, nor any service's generated contract (a unit test checks both).
"""
