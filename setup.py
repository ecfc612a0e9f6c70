"""The one thing pyproject.toml cannot say: ship the top-level resources/ and models/ inside the package.

The repository keeps them at its top level (part of the product's layout); a wheel carries them as
studio/_resources and studio/_models, which studio.core.paths finds through importlib.resources.
Their files are chosen by [tool.setuptools.package-data] in pyproject.toml, like everything else
about the package.
"""

from setuptools import find_namespace_packages, find_packages, setup

BUNDLED = {"studio._resources": "resources", "studio._models": "models"}


def bundled_packages() -> list[str]:
    """Each bundled folder and its subfolders (data, icons, images) as data-only packages."""
    names = []
    for package, folder in BUNDLED.items():
        names += [package] + [f"{package}.{sub}" for sub in find_namespace_packages(where=folder)]
    return names


setup(
    packages=find_packages(include=["studio", "studio.*"]) + bundled_packages(),
    package_dir=BUNDLED,
)
