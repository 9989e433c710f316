"""main() of a node process: one executor thread, autostart, and a clean stop on SIGINT or SIGTERM.

rclpy's own signal handling would invalidate the context at once, while goals still need their results
sent or stream threads may still be publishing; here the node is stopped first, then the context.
One SingleThreadedExecutor serves the node: callbacks must not block (work runs on the nodes' own
threads), and rclpy's MultiThreadedExecutor busy-polls its pool and costs a whole core.

An exception raised by a callback would end rclpy's spin (it re-raises it) and leave a process that
serves nothing: nodes wrap their callbacks in ``guarded`` (the error is counted and logged where it
happens), and ``run`` spins in a loop that logs, rate-limited, whatever still escapes, and goes on.

``initialized`` is how every process here starts ROS: Jazzy's ``rclpy.init()`` returns None, so
``with rclpy.init():`` (Kilted and newer only) raises TypeError there.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

import rclpy
import rclpy.node
from rclpy.executors import SingleThreadedExecutor
from rclpy.impl.rcutils_logger import RcutilsLogger
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.signals import SignalHandlerOptions

from omni_ros.ros.params import SettingsNode

N = TypeVar('N', bound=LifecycleNode)
_ESCAPED_LOG_PERIOD = 5.0  # s between log lines about callback exceptions that reached the spin loop


def guarded(what: str, callback: Callable[..., object],
            report: Callable[[str, Exception], None]) -> Callable[..., None]:
    """``callback`` for a timer or subscription, with any exception handed to ``report`` (counted and
    logged there) instead of raised into the executor."""

    def call(*args: Any) -> None:
        try:
            callback(*args)
        except Exception as error:
            report(what, error)

    return call


class GuardedNode(SettingsNode):
    """A lifecycle node whose timer and subscription callbacks never raise into the executor: an
    exception goes to ``callback_failed`` (override it to count it; here it is logged rate-limited)."""

    def callback_failed(self, what: str, error: Exception) -> None:
        self.get_logger().error(f'{what} failed: {type(error).__name__}: {error}',
                                throttle_duration_sec=_ESCAPED_LOG_PERIOD)

    def create_timer(self, timer_period_sec: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
        what = getattr(callback, '__qualname__', 'a timer')
        return super().create_timer(timer_period_sec, guarded(what, callback, self.callback_failed), *args, **kwargs)

    def create_subscription(self, msg_type: Any, topic: str, callback: Any, *args: Any, **kwargs: Any) -> Any:
        return super().create_subscription(msg_type, topic, guarded(f"'{topic}' input", callback, self.callback_failed),
                                           *args, **kwargs)


def log(logger: RcutilsLogger, level: str, text: str) -> None:
    """Log ``text`` at ``level`` ('error', 'warn' or 'info'): one call site per severity, since rclpy
    refuses a call site that logs at more than one."""
    if level == 'error':
        logger.error(text)
    elif level == 'warn':
        logger.warning(text)
    else:
        logger.info(text)


def keep_spinning(executor: SingleThreadedExecutor, node: LifecycleNode, done: threading.Event) -> None:
    """``executor.spin()`` until ``done``, except that an exception escaping a callback (rclpy's own
    services, action servers) is logged, rate-limited, and the spin goes on."""
    while executor.context.ok() and not done.is_set():
        try:
            executor.spin_once(timeout_sec=0.5)
        except Exception as error:
            node.get_logger().error(f'a callback raised {type(error).__name__}: {error}; the node goes on',
                                    throttle_duration_sec=_ESCAPED_LOG_PERIOD)


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


@contextmanager
def spun_node(name: str) -> Iterator[rclpy.node.Node]:
    """A plain node (a client, a probe) in a process that has initialised rclpy, spun by its own
    SingleThreadedExecutor on a background thread for the block, then stopped and destroyed."""
    node = rclpy.create_node(name)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    thread = threading.Thread(target=executor.spin, name=f'{name}-spin', daemon=True)
    thread.start()
    try:
        yield node
    finally:
        executor.shutdown()
        thread.join(timeout=5)
        node.destroy_node()


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
    stop, done = threading.Event(), threading.Event()
    with initialized(args, ros_signal_handlers=False):
        node = make_node()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        if node.get_parameter('autostart').value:
            autostart(node)
        spinner = threading.Thread(target=keep_spinning, args=(executor, node, done),
                                   name=f'{node.get_name()}_executor', daemon=True)
        spinner.start()
        stop.wait()
        stop_node(node)
        done.set()
        executor.shutdown()
        spinner.join(timeout=5.0)
        node.destroy_node()
