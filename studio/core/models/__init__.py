"""Model registry: the lectures' CNNs and torchvision's ImageNet classifiers behind one build_model()."""

from studio.core.models.registry import ModelSpec, build_model, get_spec, list_models, model_facts, model_input_shape
from studio.core.models.zoo import imagenet_classes, weights_file

__all__ = ["ModelSpec", "build_model", "get_spec", "imagenet_classes", "list_models", "model_facts", "model_input_shape",
           "weights_file"]
