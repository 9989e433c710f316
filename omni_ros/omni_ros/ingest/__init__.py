"""Stage 1, input: camera and microphone payloads decoded without ROS (CDR peek, images, audio) and cut
into time-aligned units by their header stamps (``sync``)."""
