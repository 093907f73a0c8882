"""The few kernel switches the bridge driver flips (per network namespace)."""


def write(key, value):
    """``write("net.ipv4.ip_forward", 1)``."""
    with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
        f.write(f"{value}\n")


def read(key):
    with open("/proc/sys/" + key.replace(".", "/")) as f:
        return f.read().strip()


def enable_ip_forward():
    if read("net.ipv4.ip_forward") != "1":
        write("net.ipv4.ip_forward", 1)


def enable_route_localnet(ifname):
    """Lets DNATed 127.0.0.1 traffic be routed out of ``ifname`` (used when the
    userland proxy is off)."""
    with open(f"/proc/sys/net/ipv4/conf/{ifname}/route_localnet", "w") as f:
        f.write("1\n")


def enable_bridge_netfilter():
    """Make bridged (container-to-container) traffic traverse iptables, which
    ``--icc=false`` and isolation need. False when br_netfilter is not loaded."""
    try:
        if read("net.bridge.bridge-nf-call-iptables") != "1":
            write("net.bridge.bridge-nf-call-iptables", 1)
    except FileNotFoundError:
        return False
    return True
