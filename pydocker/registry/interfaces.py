"""The seams between the registry client and the layer store it pulls into / pushes from.

The layer store is someone else's package; these interfaces are all the registry needs of it.
"""

from zope.interface import Attribute, Interface


class IPullTarget(Interface):
    """Where a pull puts what it downloads. Called from the pulling thread only, layers in
    order (parent first), so ``apply_layer`` may build on the previous layer.

    The staging contract: ``apply_layer`` reads ``stream`` (the plain tar, already verified:
    the blob against its digest and the tar against the layer's ``diff_id``, so a corrupt
    download never reaches the target) until it returns ``b""``, applying into a staging
    place (a fresh graph-driver layer, a temp dir); when applying fails the staging place is
    discarded and the error re-raised, so a failed layer leaves nothing.
    """

    def has_image(image_id):
        """True when the image (``sha256:`` digest of its config) is already stored."""

    def has_layer(layer):
        """True when the layer (a LayerInfo: ``diff_id``, ``chain_id``, ``digest``) is
        already stored, so it is neither downloaded nor applied ("Already exists")."""

    def apply_layer(layer, stream):
        """Apply the uncompressed layer tar read from ``stream`` (see the contract above)."""


class IPushLayer(Interface):
    """One layer of an image to push, as the layer store describes it."""

    diff_id = Attribute("sha256 digest of the uncompressed layer tar")
    known_blobs = Attribute("list of (blob digest, full repository name) pairs where this "
                            "layer was pulled from or pushed to before; may be empty")

    def open_tar():
        """Return a new readable binary file object over the uncompressed layer tar."""
