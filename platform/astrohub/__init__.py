"""astrohub: a virtual-observatory science platform delivered as a JupyterHub extension.

Layers (see DESIGN.md): ``vo`` (IVOA clients), ``models`` (the model zoo),
``compute`` (Dask), ``widgets`` (ipywidgets panels composing the three),
``hub`` (JupyterHub configuration) and ``archive`` (the embedded demo archive).
"""

__version__ = "0.1.0"
