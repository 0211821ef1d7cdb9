"""The broker process: the ZeroMQ loop, command dispatch, the store, floor figures, config, keys."""
