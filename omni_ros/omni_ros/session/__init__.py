"""The ROS-free session that runs the stages: input units to the backend on a worker thread and its
outputs to the watches, speech and the node (``pipeline``); the node's configuration (``config``)."""
