"""Synthetic IMR letters with ground truth (generate) and the parser benchmark (bench_parse)."""
