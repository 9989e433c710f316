"""Sound devices of omni_mic and omni_speaker without ROS: capture and playback streams with stamping and a
jitter buffer (``streams``), PortAudio and WAV-file devices (``sound``)."""
