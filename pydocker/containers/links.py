"""Legacy ``--link`` entries of HostConfig.Links: ``name[:alias]`` as the CLI sends
them, ``/name:/self/alias`` as older APIs store them."""


def parse_link(text):
    """(linked container's name, alias) of one entry; the alias defaults to the name."""
    name, _, alias = text.lstrip("/").partition(":")
    return name, alias.rsplit("/", 1)[-1] or name


def link_names(containers, by_id):
    """{container id: ["/<linking container>/<alias>", ...]}: the extra names ps shows
    for a linked container, as dockerd lists them. ``by_id(name)`` resolves a link's
    target to its id (None when gone)."""
    names = {}
    for container in containers:
        for text in container.host_config.get("Links") or []:
            target, alias = parse_link(text)
            target_id = by_id(target)
            if target_id is not None:
                names.setdefault(target_id, []).append(f"/{container.name}/{alias}")
    return names
