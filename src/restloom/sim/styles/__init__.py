"""Upstream styles (one per family of REST documents) over the same dataset."""

from __future__ import annotations

from restloom.sim.config import SimConfig
from restloom.sim.dataset import Dataset
from restloom.sim.styles.base import Style
from restloom.sim.styles.moco import MocoStyle
from restloom.sim.styles.mossdesk import MossdeskStyle
from restloom.sim.styles.template import TemplateStyle


def make_style(config: SimConfig, data: Dataset) -> Style:
    styles: dict[str, type[Style]] = {
        "mossdesk": MossdeskStyle,
        "moco": MocoStyle,
        "template": TemplateStyle,
    }
    return styles[config.style](config, data)


__all__ = ["Style", "make_style"]
