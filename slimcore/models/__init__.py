"""The model zoo: `create_model(name, num_classes, in_channels, image_size)` builds any registered CNN."""
from slimcore.models.factory import MODELS, create_model, list_models

# Importing a family file registers its constructors.
from slimcore.models import densenet, mobilenetv2, resnet_cifar, slimnet, torchvision_zoo, vgg  # noqa: F401,E402

__all__ = ["MODELS", "create_model", "list_models"]
