"""The metadata tables (SQLAlchemy Core), at the newest schema version.

JSON documents that Docker's API returns whole (a container's Config and
HostConfig, an image's config) are stored as text; the columns that are
queried or constrained (names, references, parents) are real columns.
An image's config is stored as the exact bytes it was hashed from, since
the image ID is the sha256 of those bytes.
"""

from sqlalchemy import (Boolean, Column, ForeignKey, Integer, LargeBinary, MetaData,
                        String, Table, Text, UniqueConstraint)

metadata = MetaData()

meta = Table(
    "meta", metadata,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
)

layers = Table(
    "layers", metadata,
    Column("chain_id", String, primary_key=True),
    Column("diff_id", String, nullable=False),
    Column("parent", String, ForeignKey("layers.chain_id"), index=True),
    Column("cache_id", String, nullable=False, unique=True),  # the graph driver's id
    Column("size", Integer, nullable=False, default=0),
)

images = Table(
    "images", metadata,
    Column("id", String, primary_key=True),  # sha256:<hex of config>
    Column("config", LargeBinary, nullable=False),
    Column("top_layer", String, ForeignKey("layers.chain_id"), index=True),
    Column("parent", String, index=True),  # a local parent image (commit), may be gone
    Column("created", Integer, nullable=False),  # ns since the epoch
)

references = Table(
    "references", metadata,
    Column("name", String, primary_key=True),  # docker.io/library/busybox:latest or ...@sha256:...
    Column("image_id", String, ForeignKey("images.id"), nullable=False, index=True),
)

containers = Table(
    "containers", metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("image_id", String, ForeignKey("images.id"), nullable=False, index=True),
    Column("image_name", String, nullable=False),
    Column("created", Integer, nullable=False),
    Column("config", Text, nullable=False),
    Column("host_config", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("network_settings", Text, nullable=False, default="{}"),
    Column("rw_layer", String, nullable=False),  # graph driver id of the read-write layer
    Column("restart_count", Integer, nullable=False, default=0),
    Column("mounts", Text, nullable=False, default="[]"),  # resolved mount points (inspect's Mounts)
)

exec_instances = Table(
    "exec_instances", metadata,
    Column("id", String, primary_key=True),
    Column("container_id", String, ForeignKey("containers.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("config", Text, nullable=False),
    Column("state", Text, nullable=False),
)

volumes = Table(
    "volumes", metadata,
    Column("name", String, primary_key=True),
    Column("driver", String, nullable=False),
    Column("mountpoint", String, nullable=False),
    Column("created", Integer, nullable=False),
    Column("labels", Text, nullable=False, default="{}"),
    Column("options", Text, nullable=False, default="{}"),
    Column("anonymous", Boolean, nullable=False, default=False),
)

networks = Table(
    "networks", metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("driver", String, nullable=False),
    Column("created", Integer, nullable=False),
    Column("config", Text, nullable=False),
)

ip_allocations = Table(
    "ip_allocations", metadata,
    Column("network_id", String, ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True),
    Column("address", String, primary_key=True),
    Column("owner", String, nullable=False),
    UniqueConstraint("network_id", "owner", name="one_address_per_owner"),
)

network_endpoints = Table(
    "network_endpoints", metadata,
    Column("endpoint_id", String, primary_key=True),
    Column("network_id", String, ForeignKey("networks.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("config", Text, nullable=False),  # the driver's Endpoint as JSON
)

layer_blobs = Table(
    "layer_blobs", metadata,
    # Where a layer's content is known to live as a compressed registry blob (pull, push),
    # so the next push can skip or cross-mount it instead of uploading (Docker's v2 metadata).
    Column("diff_id", String, primary_key=True),
    Column("digest", String, primary_key=True),
    Column("repository", String, primary_key=True),  # full name: 127.0.0.1:5000/team/app
)
