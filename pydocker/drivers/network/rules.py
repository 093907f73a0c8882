"""The iptables rules of the bridge driver, as data.

Pure functions: each returns ``Rule``s whose arguments are in the order
``iptables-save`` prints them, so tests (and humans) can compare the two
directly. Layout (Docker's, with our chain names):

- filter: FORWARD jumps to PYDOCKER-FORWARD, which first runs the isolation
  chains, then per bridge: established traffic in, PYDOCKER (published ports)
  in, everything out, and bridge-to-bridge (``--icc``).
- nat: PREROUTING and OUTPUT jump to PYDOCKER (DNAT of published ports) for
  local destinations; POSTROUTING jumps to PYDOCKER-POSTROUTING (masquerade).
"""

from collections import namedtuple

Rule = namedtuple("Rule", "table chain args")

FORWARD_CHAIN = "PYDOCKER-FORWARD"
PORTS_CHAIN = "PYDOCKER"
ISOLATION_1 = "PYDOCKER-ISOLATION-STAGE-1"
ISOLATION_2 = "PYDOCKER-ISOLATION-STAGE-2"
POSTROUTING_CHAIN = "PYDOCKER-POSTROUTING"

CHAINS = {
    "filter": (FORWARD_CHAIN, PORTS_CHAIN, ISOLATION_1, ISOLATION_2),
    "nat": (PORTS_CHAIN, POSTROUTING_CHAIN),
}

EMBEDDED_DNS = "127.0.0.11"


def rule(table, chain, *args):
    return Rule(table, chain, tuple(args))


def jumps(userland_proxy):
    """Jumps from the built-in chains into ours. Without the userland proxy,
    connections to 127.0.0.1 are DNATed too (Docker's hairpin mode)."""
    loopback = () if not userland_proxy else ("!", "-d", "127.0.0.0/8")
    return [
        rule("filter", "FORWARD", "-j", FORWARD_CHAIN),
        rule("nat", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", PORTS_CHAIN),
        rule("nat", "OUTPUT", *loopback, "-m", "addrtype", "--dst-type", "LOCAL", "-j", PORTS_CHAIN),
        rule("nat", "POSTROUTING", "-j", POSTROUTING_CHAIN),
    ]


def base_rules():
    return [rule("filter", FORWARD_CHAIN, "-j", ISOLATION_1)]


def network_rules(network, userland_proxy):
    """The rules of one bridge network."""
    br, subnet = network.bridge, network.subnet
    icc = "ACCEPT" if network.icc else "DROP"
    if network.internal:
        return [
            rule("filter", ISOLATION_1, "!", "-s", subnet, "-o", br, "-j", "DROP"),
            rule("filter", ISOLATION_1, "!", "-d", subnet, "-i", br, "-j", "DROP"),
            rule("filter", FORWARD_CHAIN, "-i", br, "-o", br, "-j", icc),
        ]
    rules = [
        rule("filter", ISOLATION_1, "-i", br, "!", "-o", br, "-j", ISOLATION_2),
        rule("filter", ISOLATION_2, "-o", br, "-j", "DROP"),
        rule("filter", FORWARD_CHAIN, "-o", br, "-m", "conntrack", "--ctstate",
             "RELATED,ESTABLISHED", "-j", "ACCEPT"),
        rule("filter", FORWARD_CHAIN, "-o", br, "-j", PORTS_CHAIN),
        rule("filter", FORWARD_CHAIN, "-i", br, "!", "-o", br, "-j", "ACCEPT"),
        rule("filter", FORWARD_CHAIN, "-i", br, "-o", br, "-j", icc),
    ]
    if userland_proxy:
        rules.append(rule("nat", PORTS_CHAIN, "-i", br, "-j", "RETURN"))
    else:
        rules.append(rule("nat", POSTROUTING_CHAIN, "-o", br, "-m", "addrtype",
                          "--src-type", "LOCAL", "-j", "MASQUERADE"))
    if network.ip_masquerade:
        rules.append(rule("nat", POSTROUTING_CHAIN, "-s", subnet, "!", "-o", br,
                          "-j", "MASQUERADE"))
    return rules


def port_rules(network, container_ip, binding, userland_proxy):
    """DNAT, accept and hairpin-masquerade rules of one published port."""
    br, proto = network.bridge, binding.proto
    host_ip = binding.host_ip
    dest = ("-d", f"{host_ip}/32") if host_ip not in ("", "0.0.0.0") else ()
    not_from_bridge = ("!", "-i", br) if userland_proxy else ()
    cport, hport = str(binding.container_port), str(binding.host_port)
    return [
        rule("nat", PORTS_CHAIN, *dest, *not_from_bridge, "-p", proto, "-m", proto,
             "--dport", hport, "-j", "DNAT", "--to-destination", f"{container_ip}:{cport}"),
        rule("filter", PORTS_CHAIN, "-d", f"{container_ip}/32", "!", "-i", br, "-o", br,
             "-p", proto, "-m", proto, "--dport", cport, "-j", "ACCEPT"),
        rule("nat", POSTROUTING_CHAIN, "-s", f"{container_ip}/32", "-d", f"{container_ip}/32",
             "-p", proto, "-m", proto, "--dport", cport, "-j", "MASQUERADE"),
    ]


def dns_redirect_rules(udp_port, tcp_port):
    """Inside a container: port 53 of 127.0.0.11 goes to the embedded DNS
    listeners, which sit on other ports so the container keeps 53 for itself.
    Conntrack rewrites the replies' source back to port 53."""
    return [
        rule("nat", "OUTPUT", "-d", f"{EMBEDDED_DNS}/32", "-p", proto, "-m", proto,
             "--dport", "53", "-j", "DNAT", "--to-destination", f"{EMBEDDED_DNS}:{port}")
        for proto, port in (("udp", udp_port), ("tcp", tcp_port))
    ]


def render(r, action="-A"):
    """A rule as one ``iptables-save`` line."""
    return " ".join((action, r.chain) + r.args)
