"""Offline evaluation on recorded outcomes: read, route, measure, tune.

    outcomes  read a recorded-outcomes file (prompt, one True/False column per model)
    routers   random / oracle / learned / cascade policies scored on a test split
    metrics   threshold sweep, cost at list prices, RouteLLM's CPT and APGR
    tune      the thresholds that reach a quality target at the lowest cost
"""
