"""The wire: the protocol every program speaks, and the client library that speaks it."""
