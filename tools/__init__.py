"""Tools around the product: the traffic simulator and the benchmarks."""
