"""An in-memory image dataset kept as uint8 and normalised on access (a quarter of float32's memory)."""
from __future__ import annotations

from typing import Sequence

import torch
from torch.utils.data import Dataset


class NormalizedImages(Dataset):
    """uint8 N×C×H×W images and int labels; item i is ((x/255 − mean)/std as float32, label)."""

    def __init__(
        self, images: torch.Tensor, labels: torch.Tensor, mean: Sequence[float], std: Sequence[float]
    ) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4 or len(images) != len(labels):
            raise ValueError("images must be uint8 N×C×H×W with one label each")
        self.images = images
        self.labels = labels.long()
        self.mean = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)

    def __len__(self) -> int:
        return len(self.images)

    def _normalize(self, images: torch.Tensor) -> torch.Tensor:
        return (images.float().div_(255.0) - self.mean) / self.std

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self._normalize(self.images[index]), int(self.labels[index])

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, int]]:
        """A whole batch normalised in one op; DataLoader calls this instead of __getitem__ per item."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return list(zip(self._normalize(self.images[index]).unbind(0), self.labels[index].tolist()))
