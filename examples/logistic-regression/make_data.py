#!/usr/bin/env python3
"""Regenerates the bundled data set: a synthetic credit-default table, deterministic (seed 7).

Columns (no header, label first, as SageMaker's built-in algorithms expect CSV):
default, income_k, debt_ratio, years_employed, late_payments
"""
import math
import os
import random

rng = random.Random(7)


def row():
    income = max(8.0, rng.gauss(62.0, 22.0))
    debt_ratio = min(1.5, max(0.0, rng.gauss(0.35, 0.18)))
    years = max(0.0, rng.gauss(7.0, 5.0))
    late = max(0, int(rng.gauss(1.2, 1.5)))
    z = -1.2 - 0.035 * (income - 62) + 4.0 * (debt_ratio - 0.35) - 0.12 * (years - 7) + 0.55 * (late - 1.2)
    p = 1.0 / (1.0 + math.exp(-z))
    label = 1 if rng.random() < p else 0
    return "%d,%.1f,%.3f,%.1f,%d" % (label, income, debt_ratio, years, late)


here = os.path.dirname(os.path.abspath(__file__))
for split, n in (("train", 800), ("validation", 200)):
    with open(os.path.join(here, "data", split, "%s.csv" % split), "w") as f:
        for _ in range(n):
            f.write(row() + "\n")
