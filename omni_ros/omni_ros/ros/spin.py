"""main() of a node process: one executor thread, autostart, and a clean stop on SIGINT or SIGTERM.

rclpy's own signal handling would invalidate the context at once, while goals still need their results
sent or stream threads may still be publishing; here the node is stopped first, then the context.
One SingleThreadedExecutor serves the node: callbacks must not block (work runs on the nodes' own
threads), and rclpy's MultiThreadedExecutor busy-polls its pool and costs a whole core.

``initialized`` is how every process here starts ROS: Jazzy's ``rclpy.init()`` returns None, so
``with rclpy.init():`` (Kilted and newer only) raises TypeError there.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.signals import SignalHandlerOptions

N = TypeVar('N', bound=LifecycleNode)


@contextmanager
def initialized(args: list[str] | None = None, *, ros_signal_handlers: bool = True) -> Iterator[None]:
    """rclpy initialised (with ``args``) for the block, shut down after it, on Jazzy and Kilted alike.

    ``ros_signal_handlers=False`` leaves SIGINT/SIGTERM to the caller (``run`` stops the node first).
    """
    rclpy.init(args=args, signal_handler_options=None if ros_signal_handlers else SignalHandlerOptions.NO)
    try:
        yield
    finally:
        rclpy.try_shutdown()


def autostart(node: LifecycleNode) -> None:
    """Configure and activate from the executor once it spins, rather than before: run() is then
    already waiting for SIGINT/SIGTERM, so a stop during a long model load ends the process cleanly."""

    def run() -> None:
        timer.cancel()
        if node.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            node.trigger_activate()

    timer = node.create_timer(0.0, run)


def run(make_node: Callable[[], N], stop_node: Callable[[N], None], args: list[str] | None = None) -> None:
    """Spin ``make_node()`` until a stop signal, then ``stop_node(node)``, then shut ROS down.

    When the node's ``autostart`` parameter is true, it is configured and activated (``autostart``).
    """
    stop = threading.Event()
    with initialized(args, ros_signal_handlers=False):
        node = make_node()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        if node.get_parameter('autostart').value:
            autostart(node)
        spinner = threading.Thread(target=executor.spin, name=f'{node.get_name()}_executor', daemon=True)
        spinner.start()
        stop.wait()
        stop_node(node)
        executor.shutdown()
        spinner.join(timeout=5.0)
        node.destroy_node()
