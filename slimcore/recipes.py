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
# LeGR prunes a ResNet-56 trained without a penalty; this is the usual CIFAR schedule for one.
_LEGR_BASE = {"model": "resnet56", "penalty": "none", "lam": 0.0, "epochs": 200, "batch_size": 128, "lr": 0.1,
              "momentum": 0.9, "weight_decay": 5e-4, "schedule": "step"}

add(Recipe(
    "slimming-vgg19-cifar10", "Liu et al. 2017, network slimming: VGG-19 on CIFAR-10",
    {"model": "vgg19", "dataset": "cifar10", "penalty": "l1", "lam": 1e-4, "penalty_params": {"mode": "subgradient"},
     **_SLIMMING},
    prune="remove 70 % of the channels by one global |γ| threshold, then fine-tune 160 epochs with the same "
          "schedule (`slimcore prune RUN --ranking bn --flops-ratio F --finetune-epochs 160 --finetune-lr 0.1 "
          "--finetune-schedule step`, F read off the curve where 70 % of the channels are gone)",
    reported="test accuracy 93.66 % → 93.80 % (error 6.34 → 6.20) with 70 % of the channels pruned and "
             "fine-tuned; parameters 20.04 M → 2.30 M (−88.5 %), FLOPs 7.97e8 → 3.91e8 (−51.0 %). The authors' "
             "PyTorch code: 93.77 %, 32.54 % right after pruning, 93.78 % after fine-tuning",
    source="Liu et al., ICCV 2017, Table 1; README of Eric-mingjie/network-slimming (`--s 0.0001`, `--percent 0.7`)"))

add(Recipe(
    "slimming-densenet40-cifar10", "Liu et al. 2017, network slimming: DenseNet-40 on CIFAR-10",
    {"model": "densenet40", "dataset": "cifar10", "penalty": "l1", "lam": 1e-5, "penalty_params": {"mode": "subgradient"},
     **_SLIMMING},
    prune="remove 40 % of the channels by one global |γ| threshold, then fine-tune 160 epochs",
    reported="test accuracy 93.89 % → 94.81 % (error 6.11 → 5.19) with 40 % of the channels pruned and "
             "fine-tuned; parameters 1.02 M → 0.66 M (−35.7 %), FLOPs 5.33e8 → 3.81e8 (−28.4 %). The authors' "
             "PyTorch code: 94.11 %, 94.16 % right after pruning, 94.32 % after fine-tuning",
    source="Liu et al., ICCV 2017, Table 1; README of Eric-mingjie/network-slimming (`--s 0.00001`, `--percent 0.4`)"))

for _p, _label in ((0.5, "ℓ1/2"), (0.75, "ℓ3/4")):
    add(Recipe(
        f"nonconvex-lp{str(_p)[2:]}-vgg19-cifar10", f"Bui et al. 2020, nonconvex slimming with {_label}: VGG-19 on CIFAR-10",
        {"model": "vgg19", "dataset": "cifar10", "penalty": "lp", "lam": 1e-4,
         "penalty_params": {"p": _p, "mode": "subgradient"}, **_SLIMMING},
        prune="as network slimming: 70 % of the channels by a global |γ| threshold, then 160 epochs of retraining",
        reported=f"{_label} gives compressed models with accuracy similar to ℓ1's after retraining (the abstract; "
                 "the per-λ tables are not quoted here: no verified copy)",
        source="Bui et al., arXiv 2010.01242; kbui1993/NonconvexNetworkSlimming README (`--s 0.0001 --reg Lp`)"))

add(Recipe(
    "nonconvex-tl1-vgg19-cifar10", "Bui et al. 2020, nonconvex slimming with transformed ℓ1: VGG-19 on CIFAR-10",
    {"model": "vgg19", "dataset": "cifar10", "penalty": "tl1", "lam": 1e-4,
     "penalty_params": {"a": 1.0, "mode": "subgradient"}, **_SLIMMING},
    prune="as network slimming: 70 % of the channels by a global |γ| threshold; Tℓ1's claim is about the accuracy "
          "right after pruning, before retraining",
    reported="Tℓ1 preserves the model accuracy after channel pruning, before retraining (the abstract; the tables "
             "are not quoted here: no verified copy)",
    source="Bui et al., arXiv 2010.01242; kbui1993/NonconvexNetworkSlimming README (`--reg TL1 --a 1.0`)"))

add(Recipe(
    "ista-resnet20-cifar10", "Ye et al. 2018, ISTA on γ: ResNet-20 on CIFAR-10 (model A)",
    {"model": "resnet20", "dataset": "cifar10", "penalty": "ista", "lam": 0.005,
     "penalty_params": {"gamma_lr": 0.1, "alpha": 1.0}, "epochs": 125, "batch_size": 125, "lr": 0.1,
     "momentum": 0.9, "weight_decay": 5e-4, "schedule": "constant"},
    prune="remove every channel whose γ reached 0 (`slimcore prune RUN --threshold 1e-30`), then fine-tune "
          "(their code: 50k steps at lr 0.01 with the penalty off)",
    reported="from 92 % (unpruned ResNet-20), 37 % of the parameters removed at about one point of accuracy; the "
             "authors' code: 91.16 % right after pruning, 90.60 % after fine-tuning, 177,164 parameters",
    source="Ye et al., ICLR 2018, §5 (model A: ρ = 0.001 for 30k steps, then 0.005; α = 1 for models trained "
           "from scratch); README of bobye/batchnorm_prune. The warm-up at ρ = 0.001 is not reproduced"))

add(Recipe(
    "tpp-resnet56-cifar10", "Wang & Fu 2023, TPP: ResNet-56 on CIFAR-10, ratio 0.9",
    {"model": "resnet56", "dataset": "cifar10", "penalty": "tpp", "lam": 1e-4,
     "penalty_params": {"ratio": 0.9, "lam_step": 1e-4, "lam_every": 10, "lam_max": 1.0},
     "epochs": 160, "batch_size": 128, "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4, "schedule": "step"},
    prune="remove exactly the filters TPP chose (`slimcore preview RUN --ranking tpp`: the landmark point), then "
          "retrain 120 epochs (their code: lr 0.01, ÷10 at 60 and 90)",
    reported="unpruned 93.78 %; TPP at layer-wise ratio 0.9: 89.63 % after retraining (L1 baseline 86.75 %), "
             "90.39 % sparsity, 11.41× speed-up",
    source="Wang & Fu, ICLR 2023, Table 1 (README of MingSun-Tse/TPP: `--stage_pr *layer*.conv1:0.9`). TPP starts "
           "from a trained ResNet-56; this recipe trains one with the penalty from the start"))

add(Recipe(
    "legr-resnet56-cifar10", "Chin et al. 2020, LeGR: ResNet-56 on CIFAR-10 at 47 % of the FLOPs",
    {"dataset": "cifar10", **_LEGR_BASE},
    prune="learn the ranking at 47 % of the FLOPs kept (`slimcore rank RUN --ranking legr --target-flops 0.47 "
          "--population 64 --sample 16 --generations 400 --steps 0`), prune there, fine-tune 400 epochs at lr 0.01",
    reported="the paper's Table 1 (not quoted here: no verified copy); its code's script `legr_table1.sh` "
             "prunes 53 % of the FLOPs away",
    source="Chin et al., CVPR 2020; enyac-group/LeGR (legr.py, scripts/legr_table1.sh: τ = 0, `--prune_away 53`)"))

add(Recipe(
    "legr-resnet56-cifar100", "Chin et al. 2020, LeGR: ResNet-56 on CIFAR-100 (Fig. 2)",
    {"dataset": "cifar100", **_LEGR_BASE},
    prune="learn the ranking (`slimcore rank RUN --ranking legr --target-flops 0.2 --population 64 --sample 16 "
          "--generations 400 --steps 200`), prune to 10–20 % of the FLOPs kept, fine-tune 60 epochs",
    reported="the paper's Fig. 2 (accuracy against FLOPs at 10, 13, 16 and 20 % kept; not quoted here)",
    source="Chin et al., CVPR 2020; enyac-group/LeGR Fig. 2 scripts (τ = 200, `--long_ft 60`)"))
