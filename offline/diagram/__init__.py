"""Architecture diagrams drawn from the real stack files (`make diagram ENV=<env>`).

`build` turns an environment's mocked runs into a `model.Architecture` (accounts, VPCs, subnet
tiers, peerings, and the data paths as numbered flows), every part read from resources in the
graph; `picture` draws it with the `diagrams` package (PNG and SVG, AWS icons) and `mermaid`
writes it as the README's Mermaid flowchart, which `make lint` keeps current.
"""
