#!/usr/bin/env bash
# Installs everything omni_ros needs on a fresh Debian 12 / Python 3.11 machine without a ROS install:
#   1. Debian packages from requirements/apt.txt that are missing,
#   2. a virtual environment (.venv) with ROS 2 Kilted from PyPI wheels and the pinned Python deps,
#   3. omni_ros_interfaces (and a test copy of audio_common_msgs) built with CMake into that environment,
#   4. omni_ros and omni_ros_bt installed into it (editable, so source edits need no reinstall),
#   5. the jazzy sources of ros2/launch and launch_ros from ../shared/upstream on its path (not copied),
#   6. a second venv (.venv-jazzy) with Jazzy's rclpy wheels for the Jazzy tier of the tests.
# The MiniCPM-o test stack (CPU torch, transformers) is installed too, for the adapter's tests only:
# the CPU backend never imports it (a test checks). So is llama.cpp-omni's llama-server (CPU build, cached by
# a hash of its sources: tools/build_llama_server.sh), with its converters' Python packages, for the
# `upstream` tests of the llamacpp_omni backend.
# Each step is skipped while its inputs are unchanged, so this is cheap to call before every run.
# On a machine with ROS 2 installed, build with colcon instead (README).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${OMNI_VENV:-$root/.venv}
build=$root/build
python=${PYTHON:-python3}
log() { printf '[bootstrap] %s\n' "$*" >&2; }

# Hash of the given files' contents (sorted), to tell whether a step is up to date.
inputs_hash() { (cd "$root" && find "$@" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
up_to_date() { [ -f "$venv/.stamp-$1" ] && [ "$(cat "$venv/.stamp-$1")" = "$2" ]; }
mark_done() { echo "$2" > "$venv/.stamp-$1"; }

install_apt() {
  local missing=()
  while read -r pkg; do
    [ -n "$pkg" ] || continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < <(sed -e 's/#.*//' -e '/^\s*$/d' "$root/requirements/apt.txt")
  [ ${#missing[@]} -eq 0 ] && return
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_venv() {
  local h
  h=$(inputs_hash requirements tools/bootstrap.sh)
  if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv"
    "$python" -m venv "$venv"
  fi
  # colcon must not mistake the ROS packages inside the wheels for workspace packages.
  touch "$venv/COLCON_IGNORE"
  up_to_date pip "$h" && return
  log "installing ROS 2 Kilted wheels and Python dependencies (about a minute on a cold cache)"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    -r "$root/requirements/build.txt" -r "$root/requirements/ros-kilted.txt" -r "$root/requirements/base.txt" \
    -r "$root/requirements/test.txt" -r "$root/requirements/cpu.txt" -r "$root/requirements/bt.txt" \
    -r "$root/requirements/test-minicpmo.txt" -r "$root/requirements/test-llamacpp.txt" \
    -r "$root/requirements/ros-tools.txt" \
    -c "$root/requirements/constraints.txt" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  # silero-vad declares torch, which the CPU backend never imports; these wheels are pinned by hash.
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps --require-hashes \
    -r "$root/requirements/cpu-nodeps.txt" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  mark_done pip "$h"
}

# Builds the ament_cmake interface package in folder $2 with plain CMake into the venv; $1 names its
# stamp and logs. Rebuilt when the folder, the shared CMake fix or the ROS pins change.
build_interfaces() {
  local name=$1 src=$2 dir=$build/$(basename "$2") h
  h=$(inputs_hash "$src" omni_ros_interfaces/cmake requirements/ros-kilted.txt)
  up_to_date "$name" "$h" && return
  log "building $src (about 30 s)"
  mkdir -p "$build"
  touch "$build/COLCON_IGNORE" "$build/CATKIN_IGNORE"  # not a workspace for colcon or rosdep
  cmake -S "$root/$src" -B "$dir" -DCMAKE_INSTALL_PREFIX="$venv" \
    -DPython3_EXECUTABLE="$venv/bin/python" -DBUILD_TESTING=OFF > "$build/$name-configure.log" 2>&1 \
    || { tail -30 "$build/$name-configure.log" >&2; exit 1; }
  cmake --build "$dir" -j "$(nproc)" > "$build/$name-build.log" 2>&1 \
    || { tail -30 "$build/$name-build.log" >&2; exit 1; }
  cmake --install "$dir" > "$build/$name-install.log" 2>&1 \
    || { tail -30 "$build/$name-install.log" >&2; exit 1; }
  mark_done "$name" "$h"
}

# Upstream source the MiniCPM-o test tier reads but never installs (requirements/minicpmo-utils-src.txt).
fetch_sources() {
  local h dest=$venv/share/omni_ros/sdist
  h=$(inputs_hash requirements/minicpmo-utils-src.txt)
  up_to_date sources "$h" && return
  log "downloading minicpmo-utils source (read by the upstream tests, not installed)"
  mkdir -p "$dest"
  "$venv/bin/pip" download -q --disable-pip-version-check --no-deps --no-build-isolation --no-binary :all: \
    --require-hashes -r "$root/requirements/minicpmo-utils-src.txt" -d "$dest" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  mark_done sources "$h"
}

install_omni_ros() {
  local h
  h=$(inputs_hash omni_ros/setup.py omni_ros/setup.cfg omni_ros/package.xml omni_ros/launch omni_ros/config \
      omni_ros_bt/setup.py omni_ros_bt/setup.cfg omni_ros_bt/package.xml)
  up_to_date omni_ros "$h" && return
  log "installing omni_ros and omni_ros_bt into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation --use-pep517 \
    --config-settings editable_mode=compat -e "$root/omni_ros" -e "$root/omni_ros_bt" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  mark_done omni_ros "$h"
}

# ros2/launch and launch_ros (jazzy) from the shared upstream sources, plus the import stand-in for
# composition_interfaces (omni_ros/test/stand_ins): a .pth file, rewritten on every run, so the paths
# can be pointed elsewhere with OMNI_ROS2_LAUNCH_UPSTREAM / OMNI_LAUNCH_ROS_UPSTREAM.
link_upstream_launch() {
  local shared=$root/../shared/upstream launch ros pth
  [ -d "$shared" ] || shared=$root/shared/upstream
  launch=${OMNI_ROS2_LAUNCH_UPSTREAM:-$shared/ros2-launch}
  ros=${OMNI_LAUNCH_ROS_UPSTREAM:-$shared/launch_ros}
  pth=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/omni_ros_upstream_launch.pth
  if [ ! -d "$launch/launch" ] || [ ! -d "$ros/launch_ros" ]; then
    log "ros2/launch or launch_ros not found ($launch, $ros): the launch tests will fail"
    rm -f "$pth"
    return
  fi
  printf '%s\n' "$launch/launch" "$launch/launch_xml" "$launch/launch_yaml" "$ros/launch_ros" \
    "$root/omni_ros/test/stand_ins" > "$pth"
}

install_jazzy_venv() {
  local jazzy=${OMNI_JAZZY_VENV:-$root/.venv-jazzy} h
  h=$(inputs_hash requirements/ros-jazzy.txt requirements/constraints-jazzy.txt tools/bootstrap.sh)
  [ -x "$jazzy/bin/python" ] || "$python" -m venv "$jazzy"
  touch "$jazzy/COLCON_IGNORE"
  [ -f "$jazzy/.stamp-pip" ] && [ "$(cat "$jazzy/.stamp-pip")" = "$h" ] && return
  log "installing ROS 2 Jazzy's rclpy wheels into $jazzy (about 40 s on a cold cache)"
  "$jazzy/bin/pip" install -q --disable-pip-version-check -r "$root/requirements/ros-jazzy.txt" \
    -c "$root/requirements/constraints-jazzy.txt" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$h" > "$jazzy/.stamp-pip"
}

install_apt
install_venv
fetch_sources
build_interfaces interfaces omni_ros_interfaces
# A test copy of the released audio_common_msgs (omni_ros/test/interfaces/README.md), for the tests of
# that input; a ROS install uses the real package instead.
build_interfaces test-audio-common-msgs omni_ros/test/interfaces/audio_common_msgs
install_omni_ros
# llama-server for the llamacpp_omni `upstream` tests; skipped (they skip too) without the upstream sources.
if [ -f "${OMNI_LLAMACPP_SRC:-${OMNI_UPSTREAM:-$root/../shared/upstream}/llama.cpp-omni}/tools/server/server.cpp" ]; then
  "$root/tools/build_llama_server.sh" > /dev/null
else
  log "no llama.cpp-omni sources (../shared/upstream/llama.cpp-omni or \$OMNI_LLAMACPP_SRC): llama-server not built"
fi
link_upstream_launch
install_jazzy_venv
