# Everything a fresh Debian 12 machine needs, as root.
PY ?= python3
VENV := .venv
APT_PACKAGES := busybox-static iptables iproute2 btrfs-progs e2fsprogs xfsprogs dmsetup \
	thin-provisioning-tools lxc docker-registry skopeo hyperfine tmux python3-venv libseccomp2 \
	openssl util-linux docker-compose ansible gcc libc6-dev

.PHONY: deps venv demo test test-unit-nonroot test-kernels bench clean

deps: .deps-apt venv

.deps-apt:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES)
	touch .deps-apt

venv: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

demo: deps
	sh scripts/demo.sh

test: deps
	sh scripts/test.sh

# The unit tests as the user nobody (make test runs this too).
test-unit-nonroot: venv
	sh scripts/test-unit-nonroot.sh

# Debian's kernels in a QEMU guest: see scripts/kernels/test-kernels.sh for the variables.
test-kernels: deps .deps-kernels
	sh scripts/kernels/test-kernels.sh

.deps-kernels:
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 mmdebstrap
	touch .deps-kernels

bench: deps
	sh scripts/bench.sh
