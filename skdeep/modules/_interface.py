"""The small interface every module behind an estimator implements."""

from abc import ABC, abstractmethod

from torch import Tensor, nn

__all__ = ["FeatureModule"]


class FeatureModule(nn.Module, ABC):
    """A torch module with learned features and a cost estimate.

    Subclasses provide :meth:`embed` (the learned features that an
    estimator's ``transform`` returns), ``n_features_out`` (their width) and
    :meth:`cost_per_sample`; :meth:`forward` maps the same inputs to the
    network's output. Inputs are one or more tensors whose first dimension
    is the sample: ``(X,)`` for tables, images and fixed-length sequences,
    ``(X, lengths)`` for padded variable-length sequences.

    Attributes
    ----------
    n_features_out : int
        Width of :meth:`embed`'s output.
    """

    n_features_out: int

    @abstractmethod
    def forward(self, *inputs: Tensor) -> Tensor:
        """The network's output (logits or values) for a batch of inputs."""

    @abstractmethod
    def embed(self, *inputs: Tensor) -> Tensor:
        """The learned features of a batch: shape ``(n, n_features_out)``."""

    @abstractmethod
    def cost_per_sample(self) -> int:
        """Multiply-adds of one sample's forward pass (at the built input size).

        A rough count (matrix products and convolutions only) that the
        estimators' thread policy weighs against the batch size: a training
        step costs about three forward passes.
        """
