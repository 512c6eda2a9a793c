"""The seed papers' published set-ups, as recipes: `slimcore train --recipe NAME` trains with one, `slimcore
recipe list` shows each with the paper's reported figures, so a user with a GPU and the data reproduces the
paper's table and sees its number beside theirs. Any flag given with a recipe overrides that setting (the tests
run every recipe at tiny scale on the `synthetic` data set, one epoch)."""
from __future__ import annotations

from dataclasses import dataclass, field

from slimcore.registry import Registry


@dataclass(frozen=True)
class Recipe:
    """A paper's training set-up (TrainConfig fields), how it then prunes, and what it reports."""

    name: str
    paper: str
    train: dict = field(default_factory=dict)
    prune: str = ""  # the pruning step after training, as the paper does it (and the command that does it here)
    reported: str = ""  # the paper's figures for this set-up
    source: str = ""  # where the figures are from


RECIPES: Registry[Recipe] = Registry("recipe")


def add(recipe: Recipe) -> Recipe:
    RECIPES.register(recipe.name, help=recipe.paper)(recipe)
    return recipe


# Network slimming's CIFAR schedule (Liu et al. 2017): SGD momentum 0.9, weight decay 1e-4, batch 64, lr 0.1
# divided by 10 at 50 % and 75 % of 160 epochs (our `step` schedule), the subgradient λ·sign(γ).
_SLIMMING = {"epochs": 160, "batch_size": 64, "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4, "schedule": "step"}

add(Recipe(
    "slimming-vgg19-cifar10", "Liu et al. 2017, network slimming: VGG-19 on CIFAR-10",
    {"model": "vgg19", "dataset": "cifar10", "penalty": "l1", "lam": 1e-4, "penalty_params": {"mode": "subgradient"},
     **_SLIMMING},
    prune="remove 70 % of the channels by one global |γ| threshold, then fine-tune 160 epochs with the same "
          "schedule (`slimcore prune RUN --ranking bn --flops-ratio F --finetune-epochs 160 --finetune-lr 0.1 "
          "--finetune-schedule step`, F read off the curve at 70 % of the channels)",
    reported="test accuracy 93.66 % → 93.80 % after pruning 70 % of the channels and fine-tuning; parameters "
             "20.0 M → 2.3 M; FLOPs 7.97e8 → 3.91e8",
    source="Liu et al., ICCV 2017, Table 1 (via the project's algorithms reference)"))

add(Recipe(
    "slimming-densenet40-cifar10", "Liu et al. 2017, network slimming: DenseNet-40 on CIFAR-10",
    {"model": "densenet40", "dataset": "cifar10", "penalty": "l1", "lam": 1e-5, "penalty_params": {"mode": "subgradient"},
     **_SLIMMING},
    prune="remove 40 % of the channels by one global |γ| threshold, then fine-tune 160 epochs",
    reported="40 % of the channels pruned at equal or better test accuracy than the unpruned DenseNet-40",
    source="Liu et al., ICCV 2017, Table 1 (via the project's algorithms reference)"))

for _p, _label in ((0.5, "ℓ1/2"), (0.75, "ℓ3/4")):
    add(Recipe(
        f"nonconvex-lp{str(_p)[2:]}-vgg19-cifar10", f"Bui et al. 2020, nonconvex slimming with {_label}: VGG-19 on CIFAR-10",
        {"model": "vgg19", "dataset": "cifar10", "penalty": "lp", "lam": 1e-4,
         "penalty_params": {"p": _p, "mode": "subgradient"}, **_SLIMMING},
        prune="as network slimming: a global |γ| threshold, then retraining",
        reported=f"{_label} prunes more channels than ℓ1 at the same accuracy after retraining (qualitative)",
        source="Bui et al., arXiv 2010.01242 (the paper's tables give the figures per λ)"))

add(Recipe(
    "nonconvex-tl1-vgg19-cifar10", "Bui et al. 2020, nonconvex slimming with transformed ℓ1: VGG-19 on CIFAR-10",
    {"model": "vgg19", "dataset": "cifar10", "penalty": "tl1", "lam": 1e-4,
     "penalty_params": {"a": 1.0, "mode": "subgradient"}, **_SLIMMING},
    prune="as network slimming: a global |γ| threshold; Tℓ1's claim is about accuracy before retraining",
    reported="Tℓ1 keeps test accuracy right after pruning, before retraining (qualitative)",
    source="Bui et al., arXiv 2010.01242"))

add(Recipe(
    "ista-resnet20-cifar10", "Ye et al. 2018, ISTA on γ with γ–W rescaling: ResNet-20 on CIFAR-10",
    {"model": "resnet20", "dataset": "cifar10", "penalty": "ista", "lam": 0.005,
     "penalty_params": {"gamma_lr": 0.1, "alpha": 1.0}, "epochs": 160, "batch_size": 64, "lr": 0.1,
     "momentum": 0.9, "weight_decay": 1e-4, "schedule": "step"},
    prune="remove every channel whose γ reached 0 (`slimcore prune RUN --threshold 1e-30`), then fine-tune",
    reported="see Ye et al. 2018, Table 1 (ResNet-20 on CIFAR-10)",
    source="Ye et al., ICLR 2018; ρ = 0.005 is their code's `--l1_penalty` default (bobye/batchnorm_prune)"))

add(Recipe(
    "tpp-resnet56-cifar10", "Wang & Fu 2023, TPP: ResNet-56 on CIFAR-10",
    {"model": "resnet56", "dataset": "cifar10", "penalty": "tpp", "lam": 1e-4,
     "penalty_params": {"ratio": 0.9, "lam_step": 1e-4, "lam_every": 10, "lam_max": 1.0},
     "epochs": 160, "batch_size": 128, "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4, "schedule": "step"},
    prune="remove exactly the filters TPP chose (`slimcore preview RUN --ranking tpp`: the landmark point), "
          "then fine-tune",
    reported="see Wang & Fu 2023, Table 2 (ResNet-56 on CIFAR-10, pruning ratio 0.9 of each block's first conv)",
    source="Wang & Fu, ICLR 2023; ratio 0.9 of `*layer*.conv1` from the README scripts of MingSun-Tse/TPP"))

add(Recipe(
    "legr-resnet56-cifar100", "Chin et al. 2020, LeGR: ResNet-56 on CIFAR-100",
    {"model": "resnet56", "dataset": "cifar100", "penalty": "none", "lam": 0.0, "epochs": 200, "batch_size": 128,
     "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4, "schedule": "step"},
    prune="learn the ranking at 47 % of the FLOPs kept (`slimcore rank RUN --ranking legr --target-flops 0.47 "
          "--population 64 --sample 16 --generations 400 --steps 200`), prune there, fine-tune",
    reported="see Chin et al. 2020, Fig. 2 (ResNet-56 on CIFAR-100 at seven FLOPs targets)",
    source="Chin et al., CVPR 2020; search sizes from enyac-group/LeGR's legr.py and scripts"))
