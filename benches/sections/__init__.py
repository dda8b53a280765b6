"""One module per benchmark section; benches/bench.py runs them and writes RESULTS.md."""
