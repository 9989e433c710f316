"""omni_ros: a full-duplex omni-modal model node for ROS 2.

The folders follow the data flow: ``ingest`` (camera and microphone payloads to time-aligned units),
``session`` (the pipeline that feeds the backend on a worker thread), ``backends`` (the models),
``watches`` (standing instructions and their events), ``speech`` (speaking while listening) and
``devices`` (sound cards for omni_mic / omni_speaker). ``data`` holds the plain values passed between
them and ``errors`` every exception. Only ``ros`` imports rclpy or message types.
"""
