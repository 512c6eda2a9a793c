"""The model zoo: `create_model(name, num_classes, in_channels, image_size)` builds any registered CNN."""
from slimcore.models.factory import MODELS, check_model_name, create_model, list_models

# Importing a family file registers its constructors.
from slimcore.models import densenet, mobilenetv2, resnet_cifar, slimnet, torchvision_zoo, vgg  # noqa: F401,E402
from slimcore.models.external import signature_problem  # noqa: E402

# Then installed packages' models: entry points of the group `slimcore.models`, each a callable
# (num_classes, in_channels, image_size) -> nn.Module.
ENTRY_POINT_GROUP = "slimcore.models"
MODELS.load_entry_points(ENTRY_POINT_GROUP, signature_problem)

__all__ = ["ENTRY_POINT_GROUP", "MODELS", "check_model_name", "create_model", "list_models"]
