"""Pruning as pure math: plans, MACs of a plan, channel groups, rankings, absorption, the cut, LeGR's evolution.

Nothing here traces a model, reads the run store or writes a file: the model analysis in `slimcore.analysis`
produces the data these functions take (groups, layer shapes, constant uses), and the orchestration in
`slimcore.pruning` calls both.
"""
