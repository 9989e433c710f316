"""Command-line tools: demo, replay, scenario generator, benchmarks."""
