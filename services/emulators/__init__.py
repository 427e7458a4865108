"""Stand-ins for the outside world (payment gateway, bank, insurer, SMS, push): real gRPC
servers with configurable latency, failures and refusals, so tests can break them."""
