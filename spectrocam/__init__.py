"""spectrocam: what neural networks learn from speech spectrograms."""

__version__ = "0.1.0"
