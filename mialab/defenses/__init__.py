"""Defences against membership inference: each trains (or wraps) a model whose answers leak less, at some cost in
accuracy; notebook 11 measures them with the strongest attacks."""
