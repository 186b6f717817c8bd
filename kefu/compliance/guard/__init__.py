"""The compliance guard: compiled per-shop rules that screen an outgoing
message in one pass (phrases with Aho–Corasick, regular expressions with an
RE2 set) plus detector functions for what a list cannot express."""
