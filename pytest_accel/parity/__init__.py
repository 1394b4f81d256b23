"""Whether two results agree: tolerances, error kernels, diagnosis, the float64 oracle, nests of leaves."""
