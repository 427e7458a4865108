"""The shared plumbing every service runs on; it knows no service."""
import importlib
import sys

# nats-py imports aiohttp when it can, for a WebSocket transport the mesh never uses (it speaks
# nats://); the bench's load generator installs aiohttp, which then cost every service 7 MiB.
# Loaded here, before any module of the kit can import nats, with aiohttp held out meanwhile.
if "aiohttp" not in sys.modules:
    sys.modules["aiohttp"] = None
    importlib.import_module("nats")
    del sys.modules["aiohttp"]
