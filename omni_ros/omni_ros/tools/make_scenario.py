"""omni_make_scenario: render a scenario into a rosbag2 bag and print the bag's path.

    omni_make_scenario crossing --out /tmp/bags            # -> /tmp/bags/crossing (MCAP, raw rgb8)
    omni_make_scenario crossing --out /tmp/bags --image-format jpeg
    omni_make_scenario crossing                            # into the cache; reused while unchanged
    omni_make_scenario --list
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Sequence

from omni_ros.errors import ConfigError


def main(argv: Sequence[str] | None = None) -> int:
    from omni_ros.scenario import (IMAGE_FORMATS, STORAGES, bundled_scenarios, cached_bag, load_scenario,
                                   write_bag)

    parser = argparse.ArgumentParser(prog='omni_make_scenario', description=__doc__.split('\n\n')[0])
    parser.add_argument('scenario', nargs='?', help='bundled scenario name or path to a scenario .yaml')
    parser.add_argument('--out', help='directory to create the bag in (default: the cache, reused)')
    parser.add_argument('--image-format', choices=IMAGE_FORMATS, default='raw',
                        help='raw: sensor_msgs/Image rgb8; jpeg: sensor_msgs/CompressedImage on <topic>/compressed')
    parser.add_argument('--storage', choices=STORAGES, default='mcap', help='bag storage (default mcap)')
    parser.add_argument('--duration', type=float, help='cut the scenario to this many seconds')
    parser.add_argument('--force', action='store_true', help='replace an existing bag in --out')
    parser.add_argument('--list', action='store_true', help='list bundled scenarios and exit')
    args = parser.parse_args(argv)
    if args.list:
        print('\n'.join(bundled_scenarios()))
        return 0
    if not args.scenario:
        parser.error('name a scenario (see --list) or give a scenario file')
    try:
        scn = load_scenario(args.scenario)
        if args.duration is not None:
            if not 0 < args.duration <= scn.duration:
                raise ConfigError(f'--duration must be within (0, {scn.duration}], got {args.duration}')
            scn = dataclasses.replace(scn, duration=args.duration)
        if args.out:
            bag = write_bag(scn, args.out, image_format=args.image_format, storage=args.storage,
                            overwrite=args.force)
        else:
            bag = cached_bag(scn, image_format=args.image_format, storage=args.storage)
    except ConfigError as exc:
        print(f'omni_make_scenario: {exc}', file=sys.stderr)
        return 2
    print(bag)
    return 0


if __name__ == '__main__':
    sys.exit(main())
