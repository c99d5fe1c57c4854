"""Membership inference attacks. Each turns a black box's answers on candidate records into one score per
record (higher = more likely a member); `mialab.metrics` turns scores into numbers."""
