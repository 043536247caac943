"""Benchmarks (issue 6): every figure is a ratio against a reference run in the same go."""
