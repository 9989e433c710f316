"""Stage 4, speaking while listening: the backend's speech cut into stamped blocks (``output``), and the
robot's own voice kept out of what it hears, with barge-in detection (``selfhearing``, ``echopath``)."""
