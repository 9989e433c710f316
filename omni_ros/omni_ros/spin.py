"""main() of a node process: one executor thread, autostart, and a clean stop on SIGINT or SIGTERM.

rclpy's own signal handling would invalidate the context at once, while goals still need their results
sent or stream threads may still be publishing; here the node is stopped first, then the context.
One SingleThreadedExecutor serves the node: callbacks must not block (work runs on the nodes' own
threads), and rclpy's MultiThreadedExecutor busy-polls its pool and costs a whole core.
"""

from __future__ import annotations

import signal
import threading
from typing import Callable, TypeVar

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions


N = TypeVar('N', bound=Node)


def run(make_node: Callable[[], N], stop_node: Callable[[N], None], args: list[str] | None = None) -> None:
    """Spin ``make_node()`` until a stop signal, then ``stop_node(node)``, then shut ROS down.

    The node's ``autostart`` parameter, when true, calls its ``autostart()`` method.
    """
    stop = threading.Event()
    with rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO):
        node = make_node()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        if node.get_parameter('autostart').value:
            node.autostart()  # type: ignore[attr-defined]
        spinner = threading.Thread(target=executor.spin, name=f'{node.get_name()}_executor', daemon=True)
        spinner.start()
        stop.wait()
        stop_node(node)
        executor.shutdown()
        spinner.join(timeout=5.0)
        node.destroy_node()
