#!/bin/sh
# Installs the test dependencies, builds sealmail twice (optimised, and with
# AddressSanitizer + UBSan) and runs the whole test suite on both builds.
set -eu
cd "$(dirname "$0")/.."
sh tests/install-deps.sh --tests
jobs=$(nproc 2>/dev/null || echo 2)
for variant in release asan; do
	if [ "$variant" = release ]; then
		flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo"
	else
		flags="-DCMAKE_BUILD_TYPE=Debug -DSEAL_SANITIZE=ON"
	fi
	echo "=== $variant build ==="
	cmake -S . -B "build-$variant" -G Ninja $flags >/dev/null
	cmake --build "build-$variant" -j "$jobs"
	echo "=== $variant tests ==="
	(cd "build-$variant" && ctest --output-on-failure -j "$jobs" --timeout 900)
done
