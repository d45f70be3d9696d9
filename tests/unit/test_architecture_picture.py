"""The picture renders (Graphviz): a PNG and a self-contained SVG with every service, subnet
tier and peering, of a reasonable size."""

from __future__ import annotations

import re
import shutil

import pytest
from service_fixtures import unavailable

from offline.diagram.build import build_architecture

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.services
def test_the_dev_picture_renders_every_part_with_inline_icons(estates, tmp_path):
    if shutil.which("dot") is None:
        unavailable("Graphviz's dot is not installed (scripts/graphviz.sh installs it)")
    from offline.diagram.picture import draw

    architecture = build_architecture(estates["dev"])

    png, svg = draw(architecture, tmp_path / "architecture-dev")

    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert png.stat().st_size < 1_000_000 and svg.stat().st_size < 1_000_000
    text = svg.read_text(encoding="utf-8")
    assert not re.search(r'xlink:href="(?!#|data:)', text), "icons must not point at local files"
    for service in architecture.services:
        assert f"<title>{service.key}</title>" in text
    for peering in architecture.peerings:
        assert f"<title>{peering.key}</title>" in text
    for account in architecture.accounts:
        assert f"<title>cluster_{account.key}</title>" in text
        for vpc in account.vpcs:
            assert f"<title>cluster_{vpc.key}</title>" in text
    for path, flow in architecture.flows():
        assert f">{path.step_label(flow)} " in text
