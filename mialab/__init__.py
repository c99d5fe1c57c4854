"""mialab: the helper package of a hands-on course on membership inference."""

__version__ = "0.1.0"
