"""Model analysis: how a network's channels flow, found by tracing it (torch.fx, Torch-Pruning, forward hooks).

Shared by the penalties (which conv feeds a BN, which layers read it) and by pruning (channel groups, where a
removed channel's constant lands, layer shapes). It reads models, never the run store or files, and fills the
data types of `slimcore.pruning.math`.
"""
