"""Cost of BridgeDriver.connect/disconnect (not a test: run by hand, as root,
in a private namespace):

    unshare --mount --net --fork sh -c 'ip link set lo up; .venv/bin/python tests/network/bench_connect.py'
"""

import statistics
import subprocess
import time

from pydocker.drivers.network.bridge import BridgeDriver
from pydocker.drivers.network.config import NetworkConfig
from pydocker.drivers.network.ports import parse_publish
from pydocker.testing.networkdriver import DriverHarness

COUNT = 40


def main():
    driver = DriverHarness(BridgeDriver(NetworkConfig(bip="10.50.0.1/16", resolv_conf="/dev/null")))
    procs = [subprocess.Popen(["unshare", "--net", "sleep", "300"]) for _ in range(COUNT)]
    time.sleep(0.5)
    timings = {"connect": [], "connect with 1 port": [], "disconnect": []}
    try:
        for i, proc in enumerate(procs):
            ports = parse_publish(f"{20000 + i}:80") if i % 2 else []
            start = time.perf_counter()
            driver.connect(driver.default_network_id, f"ep{i}", proc.pid, ports=ports)
            key = "connect with 1 port" if ports else "connect"
            timings[key].append((time.perf_counter() - start) * 1000)
        for endpoint in driver.endpoints():
            start = time.perf_counter()
            driver.disconnect(endpoint)
            timings["disconnect"].append((time.perf_counter() - start) * 1000)
    finally:
        driver.teardown()
        for proc in procs:
            proc.kill()
    for name, values in timings.items():
        print(f"{name}: median {statistics.median(values):.1f} ms, "
              f"min {min(values):.1f}, max {max(values):.1f} (n={len(values)})")


if __name__ == "__main__":
    main()
