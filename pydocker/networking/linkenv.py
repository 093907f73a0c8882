"""The environment a legacy ``--link`` gives a container, in Docker's format:
for a link aliased ``db`` to a container at 172.17.0.2 exposing 5432/tcp,

    DB_PORT=tcp://172.17.0.2:5432
    DB_PORT_5432_TCP=tcp://172.17.0.2:5432
    DB_PORT_5432_TCP_ADDR=172.17.0.2, ..._PORT=5432, ..._PROTO=tcp
    DB_NAME=/web/db
    DB_ENV_<NAME>=<value> for the linked container's own variables

(runs of consecutive ports also get ``_START``/``_END`` variables in Docker;
those are not written here).
"""

IGNORED_ENV = ("HOME", "PATH")  # set by builds, not the linked service's


def _ports(exposed):
    """``["80/tcp", "53"]`` as sorted (number, proto); tcp first on a tie."""
    found = set()
    for key in exposed:
        number, _, proto = key.partition("/")
        found.add((int(number), (proto or "tcp").lower()))
    return sorted(found, key=lambda p: (p[0], p[1] != "tcp"))


def link_env(alias, parent_name, child_ip, exposed, child_env):
    """The variables (``NAME=value`` strings) of one link."""
    prefix = alias.upper().replace("-", "_")
    ports = _ports(exposed)
    env = []
    if ports:
        number, proto = ports[0]
        env.append(f"{prefix}_PORT={proto}://{child_ip}:{number}")
    for number, proto in ports:
        key = f"{prefix}_PORT_{number}_{proto.upper()}"
        env += [f"{key}={proto}://{child_ip}:{number}", f"{key}_ADDR={child_ip}",
                f"{key}_PORT={number}", f"{key}_PROTO={proto}"]
    env.append(f"{prefix}_NAME=/{parent_name.lstrip('/')}/{alias}")
    for item in child_env:
        name, sep, value = item.partition("=")
        if sep and name not in IGNORED_ENV:
            env.append(f"{prefix}_ENV_{name}={value}")
    return env
