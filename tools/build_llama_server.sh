#!/usr/bin/env bash
# Builds llama-server (CPU, CMake, Release) from the upstream llama.cpp-omni sources, for the `upstream` tests
# of the llamacpp_omni backend, into a cache keyed by a hash of those sources (and of this script, the
# compiler and the CPU's flags: the build is -march=native), so it is rebuilt only when one of them changes.
# Prints the path of the binary on stdout; the time of a clean build goes to stderr.
#
#   OMNI_LLAMACPP_SRC    the llama.cpp-omni sources (default: $OMNI_UPSTREAM/llama.cpp-omni)
#   OMNI_UPSTREAM        the folder of unmodified upstream sources (default: ../shared/upstream beside the repo)
#   OMNI_LLAMACPP_CACHE  where builds are kept (default: ${XDG_CACHE_HOME:-~/.cache}/omni_ros/llama-server)
#   OMNI_BUILD_JOBS      parallel compile jobs (default: all cores; the build runs under nice -n 10)
#
# Only the llama-server target and what it links are built; libcurl is off (models are local files).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=${OMNI_LLAMACPP_SRC:-${OMNI_UPSTREAM:-$root/../shared/upstream}/llama.cpp-omni}
cache=${OMNI_LLAMACPP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/omni_ros/llama-server}
jobs=${OMNI_BUILD_JOBS:-$(nproc)}
log() { printf '[llama-server] %s\n' "$*" >&2; }

if [ ! -f "$src/tools/server/server.cpp" ] || [ ! -f "$src/tools/omni/omni.cpp" ]; then
  log "no llama.cpp-omni sources at $src (tools/server/server.cpp, tools/omni/omni.cpp);"
  log "put them there or set OMNI_LLAMACPP_SRC"
  exit 2
fi
src=$(cd "$src" && pwd)

# Shared libraries as upstream builds them (a static link fails: omni and mtmd both define stb_image and
# miniaudio); $ORIGIN run paths let the binary and its libraries move from the build tree into the cache.
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON
            -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=ON)

key=$( {
  (cd "$src" && find . -type f -not -path './.git/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
  echo "${cmake_args[*]}"
  c++ --version | head -1
  cmake --version | head -1
  grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || uname -m
} | sha256sum | cut -c1-16)
dir=$cache/$key
bin=$dir/bin/llama-server

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9  # another checkout building the same sources waits, then reuses the result
if [ -x "$bin" ] && [ -f "$dir/done" ]; then
  log "cached build $key ($(cat "$dir/done"))"
  echo "$bin"
  exit 0
fi

log "building llama-server from $src into $dir with $jobs jobs (about 10 min on 2 cores)"
rm -rf "$dir"
mkdir -p "$dir"
t0=$(date +%s)
nice -n 10 cmake -S "$src" -B "$dir/build" "${cmake_args[@]}" > "$dir/configure.log" 2>&1 \
  || { tail -30 "$dir/configure.log" >&2; exit 1; }
nice -n 10 cmake --build "$dir/build" --target llama-server -j "$jobs" > "$dir/build.log" 2>&1 \
  || { grep -m20 -B2 -A5 'error' "$dir/build.log" >&2 || tail -30 "$dir/build.log" >&2; exit 1; }
mkdir -p "$dir/bin"
cp -P "$dir"/build/bin/llama-server "$dir"/build/bin/*.so* "$dir/bin/"
"$bin" --version > "$dir/version.txt" 2>&1 || { cat "$dir/version.txt" >&2; exit 1; }
seconds=$(( $(date +%s) - t0 ))
rm -rf "$dir/build"  # object files are not reused: a source change means a new key and a clean build
echo "clean build ${seconds} s, $(date -u +%Y-%m-%dT%H:%MZ)" > "$dir/done"
log "clean build took ${seconds} s ($jobs jobs)"
echo "$bin"
