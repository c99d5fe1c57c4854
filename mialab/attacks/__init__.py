"""Membership inference attacks. Each turns a black box's answers on candidate records into one score per
record (higher = more likely a member); `mialab.metrics` turns scores into numbers.

Index (attacks that return something other than membership scores):
- `inversion`: model inversion and attribute inference, Fredrikson et al. 2014 and 2015 (notebook 08).
"""
